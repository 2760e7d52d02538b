package dev.align.core.nd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import dev.align.core.AlignException;
import dev.align.core.Engines;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Fused libtorch operators that DJL's API does not expose: scaled-dot-product (flash) attention, SiLU,
 * and the fused AdamW update. They are reached through a TorchScript module whose source is the
 * {@link #SOURCE} string below, packed into TorchScript's archive format in memory and compiled by
 * libtorch's own TorchScript compiler when first used (no Python is involved; nothing is read from
 * disk). Calls made with gradient tracking record the operators on the autograd tape like any other op.
 */
public final class Kernels {
    /** TorchScript source of the kernel module (the archive's {@code code/__torch__.py}). */
    static final String SOURCE = String.join("\n",
            "class Kernels(Module):",
            "  __parameters__ = []",
            "  __buffers__ = []",
            "  training : bool",
            "  def forward(self: __torch__.Kernels, x: Tensor) -> Tensor:",
            "    return x",
            "  def attention(self: __torch__.Kernels, q: Tensor, k: Tensor, v: Tensor, mask: Tensor, scale: Tensor) -> Tensor:",
            "    gqa = q.size(1) != k.size(1)",
            "    return torch.scaled_dot_product_attention(q, k, v, mask, 0., False, scale=scale.item(), enable_gqa=gqa)",
            "  def attention_causal(self: __torch__.Kernels, q: Tensor, k: Tensor, v: Tensor, scale: Tensor) -> Tensor:",
            "    gqa = q.size(1) != k.size(1)",
            "    return torch.scaled_dot_product_attention(q, k, v, None, 0., True, scale=scale.item(), enable_gqa=gqa)",
            "  def pack_linear(self: __torch__.Kernels, w: Tensor, rows: int) -> Tensor:",
            "    return ops.mkldnn._reorder_linear_weight(w, rows)",
            "  def packed_linear(self: __torch__.Kernels, x: Tensor, w: Tensor) -> Tensor:",
            "    return ops.mkldnn._linear_pointwise(x, w, None, \"none\", annotate(List[Optional[number]], []), \"\")",
            "  def packed_linear_b(self: __torch__.Kernels, x: Tensor, w: Tensor, b: Tensor) -> Tensor:",
            "    return ops.mkldnn._linear_pointwise(x, w, b, \"none\", annotate(List[Optional[number]], []), \"\")",
            "  def lin(self: __torch__.Kernels, x: Tensor, w: Tensor, b: Tensor) -> Tensor:", // an empty b: no bias
            "    if torch.numel(b) > 0:",
            "      return self.packed_linear_b(x, w, b)",
            "    return self.packed_linear(x, w)",
            "  def rms(self: __torch__.Kernels, x: Tensor, w: Tensor, eps: float) -> Tensor:",
            "    v = torch.mean(torch.mul(x, x), [-1], True)",
            "    return torch.mul(torch.mul(x, torch.rsqrt(torch.add(v, eps))), w)",
            "  def rope(self: __torch__.Kernels, x: Tensor, cos: Tensor, sin: Tensor, half: int) -> Tensor:",
            "    x1 = torch.narrow(x, -1, 0, half)",
            "    x2 = torch.narrow(x, -1, half, half)",
            "    return torch.add(torch.mul(x, cos), torch.mul(torch.cat([x2, x1], -1), sin))",
            "  def decode_llama(self: __torch__.Kernels, ids: Tensor, pos: Tensor, mask: Tensor, start: int,"
                    + " w: List[Tensor], kc: List[Tensor], vc: List[Tensor], dims: List[int],"
                    + " floats: List[float]) -> Tensor:",
            "    nl = dims[0]",
            "    nh = dims[1]",
            "    nk = dims[2]",
            "    d = dims[3]",
            "    inter = dims[4]",
            "    eps = floats[0]",
            "    scale = floats[1]",
            "    b = torch.size(ids, 0)",
            "    t = torch.size(ids, 1)",
            "    half = d // 2",
            "    gqa = nh != nk",
            "    x = torch.embedding(w[0], ids)",
            "    f = torch.mul(torch.unsqueeze(torch.to(pos, 6), -1), w[1])",
            "    c = torch.cos(f)",
            "    s = torch.sin(f)",
            "    cos = torch.unsqueeze(torch.cat([c, c], -1), 1)",
            "    sin = torch.unsqueeze(torch.cat([torch.neg(s), s], -1), 1)",
            "    for l in range(nl):",
            "      o = 5 + 10 * l",
            "      h = self.rms(x, w[o], eps)",
            "      qkv = self.lin(h, w[o + 1], w[o + 2])",
            "      q = torch.transpose(torch.reshape(torch.narrow(qkv, -1, 0, nh * d), [b, t, nh, d]), 1, 2)",
            "      k = torch.transpose(torch.reshape(torch.narrow(qkv, -1, nh * d, nk * d), [b, t, nk, d]), 1, 2)",
            "      v = torch.transpose(torch.reshape(torch.narrow(qkv, -1, (nh + nk) * d, nk * d), [b, t, nk, d]), 1, 2)",
            "      q = self.rope(q, cos, sin, half)",
            "      k = self.rope(k, cos, sin, half)",
            "      kl = kc[l]",
            "      vl = vc[l]",
            "      torch.copy_(torch.narrow(kl, 2, start, t), k)",
            "      torch.copy_(torch.narrow(vl, 2, start, t), v)",
            "      a = torch.scaled_dot_product_attention(q, torch.narrow(kl, 2, 0, start + t),"
                    + " torch.narrow(vl, 2, 0, start + t), mask, 0., False, scale=scale, enable_gqa=gqa)",
            "      a = torch.reshape(torch.transpose(a, 1, 2), [b, t, nh * d])",
            "      x = torch.add(x, self.lin(a, w[o + 3], w[o + 4]))",
            "      h = self.rms(x, w[o + 5], eps)",
            "      gu = self.lin(h, w[o + 6], w[o + 7])",
            "      act = torch.mul(torch.silu(torch.narrow(gu, -1, 0, inter)), torch.narrow(gu, -1, inter, inter))",
            "      x = torch.add(x, self.lin(act, w[o + 8], w[o + 9]))",
            "    x = self.rms(torch.select(x, 1, t - 1), w[2], eps)",
            "    return self.lin(x, w[3], w[4])",
            "  def head_logprobs(self: __torch__.Kernels, h: Tensor, w: Tensor, labels: Tensor, coef: Tensor,"
                    + " options: Tensor) -> List[Tensor]:",
            "    chunk = int(options[0])",
            "    grad_h = bool(options[1] > 0)",
            "    grad_w = bool(options[2] > 0)",
            "    n = torch.size(h, 0)",
            "    logp = torch.zeros_like(coef)",
            "    hit = torch.zeros_like(coef)",
            "    gh = torch.narrow(h, 0, 0, 0)",
            "    if grad_h:",
            "      gh = torch.empty_like(h)",
            "    gw = torch.narrow(w, 0, 0, 0)",
            "    if grad_w:",
            "      gw = torch.zeros_like(w)",
            "    dnn = n >= 128",  // oneDNN's blocked products (~1.3x MKL here) repay reordering W and W^T
            "    wp = torch.narrow(w, 0, 0, 0)",
            "    wtp = torch.narrow(w, 0, 0, 0)",
            "    if dnn:",
            "      wp = ops.mkldnn._reorder_linear_weight(torch.detach(w), min(chunk, n))",
            "      if grad_h:",
            "        wtp = ops.mkldnn._reorder_linear_weight(torch.t(torch.detach(w)), min(chunk, n))",
            "    s = 0",
            "    while s < n:",
            "      c = min(chunk, n - s)",
            "      hc = torch.narrow(h, 0, s, c)",
            "      lc = torch.unsqueeze(torch.narrow(labels, 0, s, c), 1)",
            "      if dnn:",
            "        z = self.packed_linear(hc, wp)",
            "      else:",
            "        z = torch.mm(hc, torch.t(w))",
            "      mx, ix = torch.max(z, 1, True)",
            "      zl = torch.gather(z, 1, lc)",
            "      torch.copy_(torch.narrow(hit, 0, s, c), torch.squeeze(torch.eq(ix, lc), 1))",
            "      z = torch.exp_(torch.sub_(z, mx))",
            "      sm = torch.sum(z, [1], True)",
            "      torch.copy_(torch.narrow(logp, 0, s, c), torch.squeeze(torch.sub(torch.sub(zl, mx), torch.log(sm)), 1))",
            "      if grad_h or grad_w:",
            "        cc = torch.unsqueeze(torch.narrow(coef, 0, s, c), 1)",
            "        z = torch.scatter_add_(torch.mul_(z, torch.div(torch.neg(cc), sm)), 1, lc, cc)",
            "        if grad_h and dnn:",
            "          torch.copy_(torch.narrow(gh, 0, s, c), self.packed_linear(z, wtp))",
            "        elif grad_h:",
            "          torch.copy_(torch.narrow(gh, 0, s, c), torch.mm(z, w))",
            "        if grad_w:",
            "          gw = torch.addmm_(gw, torch.t(z), hc)",
            "      s = s + c",
            "    return [logp, hit, gh, gw]",
            "  def requires_grad(self: __torch__.Kernels, x: Tensor) -> bool:",
            "    return x.requires_grad",
            "  def lin_fwd(self: __torch__.Kernels, x: Tensor, w: Tensor, b: Tensor) -> Tensor:",
            "    x = torch.contiguous(torch.detach(x))",
            "    rows = torch.numel(x) // torch.size(x, -1)",
            "    return self.lin(x, ops.mkldnn._reorder_linear_weight(torch.detach(w), rows), torch.detach(b))",
            "  def lin_bwd(self: __torch__.Kernels, g: Tensor, x: Tensor, w: Tensor, gw: Tensor, gb: Tensor,"
                    + " flags: Tensor) -> List[Tensor]:",
            "    g = torch.contiguous(torch.detach(g))",
            "    g2 = torch.reshape(g, [-1, torch.size(g, -1)])",
            "    x2 = torch.reshape(torch.detach(x), [-1, torch.size(x, -1)])",
            "    wt = ops.mkldnn._reorder_linear_weight(torch.t(torch.detach(w)), torch.size(g2, 0))",
            "    gx = self.packed_linear(g, wt)",
            "    dw = gw",
            "    if bool(flags[0] > 0):",
            "      torch.addmm_(gw, torch.t(g2), x2)",
            "    else:",
            "      dw = torch.mm(torch.t(g2), x2)",
            "    db = gb",
            "    if bool(flags[1] > 0):",
            "      s = torch.sum(g2, [0])",
            "      if bool(flags[2] > 0):",
            "        torch.add_(gb, s)",
            "      else:",
            "        db = s",
            "    return [gx, dw, db]",
            "  def rms_r(self: __torch__.Kernels, x: Tensor, eps: Tensor) -> Tensor:", // 1/rms per row, [..., 1]
            "    return torch.rsqrt(torch.add(torch.mean(torch.mul(x, x), [-1], True), eps))",
            "  def rms_fwd(self: __torch__.Kernels, x: Tensor, w: Tensor, eps: Tensor) -> List[Tensor]:",
            "    x = torch.detach(x)",
            "    r = self.rms_r(x, torch.detach(eps))",
            "    return [torch.mul(torch.mul(x, r), torch.detach(w)), r]",
            "  def rms_norm(self: __torch__.Kernels, x: Tensor, w: Tensor, eps: Tensor) -> Tensor:",
            "    return torch.mul(torch.mul(x, self.rms_r(x, eps)), w)",
            "  def rms_bwd(self: __torch__.Kernels, g: Tensor, x: Tensor, r: Tensor, w: Tensor, gw: Tensor,"
                    + " res: Tensor) -> List[Tensor]:",
            "    g = torch.detach(g)",
            "    x = torch.detach(x)",
            "    xr = torch.mul(x, r)",
            "    dw = torch.sum(torch.mul(g, xr), [0, 1])",
            "    if torch.numel(gw) > 0:",
            "      torch.add_(gw, dw)",
            "    gxr = torch.mul(g, torch.detach(w))",
            "    s = torch.mul(torch.mul(r, r), torch.mean(torch.mul(gxr, x), [-1], True))",
            "    gx = torch.mul_(torch.sub_(gxr, torch.mul(x, s)), r)",
            "    return [torch.add_(gx, torch.detach(res)), dw]",
            "  def silu_mul(self: __torch__.Kernels, g: Tensor, u: Tensor) -> Tensor:",
            "    return torch.mul(torch.silu(g), u)",
            "  def silu(self: __torch__.Kernels, g: Tensor) -> Tensor:",
            "    return torch.silu(g)",
            "  def gelu_tanh(self: __torch__.Kernels, x: Tensor) -> Tensor:",
            "    return torch.gelu(x, approximate='tanh')",
            "  def adamw(self: __torch__.Kernels, params: List[Tensor], grads: List[Tensor], m: List[Tensor],"
                    + " v: List[Tensor], steps: List[Tensor], lr: float, b1: float, b2: float, wd: float,"
                    + " eps: float) -> Tensor:",
            "    torch._fused_adamw_(params, grads, m, v, [], steps, lr=lr, beta1=b1, beta2=b2,"
                    + " weight_decay=wd, eps=eps, amsgrad=False, maximize=False)",
            "    return steps[0]",
            "  def grad_norm(self: __torch__.Kernels, grads: List[Tensor]) -> Tensor:",
            "    norms = torch._foreach_norm(grads, 2.)",
            "    return torch.norm(torch.stack(norms), 2.)",
            "  def scale_(self: __torch__.Kernels, grads: List[Tensor], factor: Tensor) -> Tensor:",
            "    torch._foreach_mul_(grads, factor)",
            "    return factor",
            "  def zero_(self: __torch__.Kernels, grads: List[Tensor]) -> Tensor:",
            "    torch._foreach_zero_(grads)",
            "    return grads[0]",
            "");

    private static volatile PtSymbolBlock module;
    private static NDManager owner;

    private Kernels() {}

    private static PtSymbolBlock module() {
        PtSymbolBlock m = module;
        if (m != null) {
            return m;
        }
        synchronized (Kernels.class) {
            if (module == null) {
                Engines.init();
                owner = Engines.newManager();
                try (ByteArrayInputStream in = new ByteArrayInputStream(archive())) {
                    module = JniUtils.loadModule((PtNDManager) owner, in, true, false);
                } catch (IOException | RuntimeException e) {
                    throw new AlignException("cannot compile the fused-kernel module: " + e.getMessage(), e);
                }
            }
            return module;
        }
    }

    /** The TorchScript archive: a zip of uncompressed records, as {@code torch.jit.save} writes it. */
    static byte[] archive() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            stored(zip, "kernels/data.pkl", dataPickle());
            stored(zip, "kernels/code/__torch__.py", SOURCE.getBytes(StandardCharsets.UTF_8));
            stored(zip, "kernels/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            stored(zip, "kernels/.data/version", "10\n".getBytes(StandardCharsets.US_ASCII));
            stored(zip, "kernels/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }

    /** Pickle (protocol 2) of a {@code __torch__.Kernels} object with {@code training = False}. */
    private static byte[] dataPickle() {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80); // PROTO 2
        p.write(2);
        p.writeBytes("c__torch__\nKernels\n".getBytes(StandardCharsets.US_ASCII)); // GLOBAL
        p.write(')'); // EMPTY_TUPLE
        p.write(0x81); // NEWOBJ
        p.write('}'); // EMPTY_DICT
        p.write('('); // MARK
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        p.write('X'); // BINUNICODE
        p.write(key.length);
        p.write(0);
        p.write(0);
        p.write(0);
        p.writeBytes(key);
        p.write(0x89); // NEWFALSE
        p.write('u'); // SETITEMS
        p.write('b'); // BUILD
        p.write('.'); // STOP
        return p.toByteArray();
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        e.setTime(0);
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    /**
     * libtorch's graph-executor optimisation is a per-thread flag: left on, TorchScript profiles the first
     * calls and then replaces native backward kernels (silu_backward) with symbolic gradients built from
     * primitive ops. Each thread turns it off before its first kernel call.
     */
    private static final ThreadLocal<Boolean> PLAIN_EXECUTOR = ThreadLocal.withInitial(() -> {
        JniUtils.setGraphExecutorOptimize(false);
        return Boolean.TRUE;
    });

    private static NDArray call(String method, NDArray... inputs) {
        return callList(method, inputs).singletonOrThrow();
    }

    /** {@link #call} for methods that return several tensors. */
    private static NDList callList(String method, NDArray... inputs) {
        PLAIN_EXECUTOR.get();
        NDArray marker = inputs[0].getManager().create(new Shape(0));
        marker.setName("module_method:" + method);
        NDList in = new NDList(inputs.length + 1);
        for (NDArray a : inputs) {
            in.add(a);
        }
        in.add(marker);
        // IValueUtils reads array names as structure hints; inputs must be unnamed.
        NDList out = IValueUtils.forward(module(), in, true);
        marker.close();
        return out;
    }

    /**
     * Scaled dot-product attention (libtorch's fused kernel; flash attention on CPU), differentiable.
     * Grouped-query attention when K has fewer heads than Q.
     *
     * @param q [B, N, T, D]
     * @param k [B, K, S, D]
     * @param v [B, K, S, D]
     * @param mask additive [B, 1, T, S]
     * @param scale 0-dim score scale (1/sqrt(D) for a standard transformer)
     * @return [B, N, T, D]
     */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask, NDArray scale) {
        return call("attention", q, k, v, mask, scale);
    }

    /**
     * Causal scaled dot-product attention without a mask tensor (query i sees keys 0..i), differentiable;
     * the kernel skips the masked blocks, so it does about half the work of {@link #attention}.
     *
     * @param q [B, N, T, D]
     * @param k [B, K, T, D]
     * @param v [B, K, T, D]
     * @param scale 0-dim score scale
     * @return [B, N, T, D]
     */
    public static NDArray attentionCausal(NDArray q, NDArray k, NDArray v, NDArray scale) {
        return call("attention_causal", q, k, v, scale);
    }

    /**
     * A copy of a linear weight in oneDNN's blocked layout, for inference with inputs of about
     * {@code rows} rows: {@link #packedLinear} with it skips MKL's small-M sgemm path (twice the time of a
     * one-row product at 8 rows) and runs 2–3× faster at decoding batch sizes. Not differentiable, and stale
     * once the weight changes.
     *
     * @param w [out, in]
     * @return the packed weight (an opaque layout; only for {@link #packedLinear})
     */
    public static NDArray packLinear(NDArray w, long rows) {
        PLAIN_EXECUTOR.get();
        IValue a = IValue.from((PtNDArray) w);
        IValue r = IValue.from(rows);
        try (IValue out = IValueUtils.runMethod(module(), "pack_linear", a, r)) {
            return out.toTensor((PtNDManager) w.getManager());
        } finally {
            a.close();
            r.close();
        }
    }

    /**
     * x·Wᵀ (+ b) with a weight from {@link #packLinear}; equal to the plain product up to float rounding.
     * Inference only (no backward).
     *
     * @param x [..., in]
     * @param packed from {@link #packLinear}
     * @param bias [out], or null
     * @return [..., out]
     */
    public static NDArray packedLinear(NDArray x, NDArray packed, NDArray bias) {
        return bias == null ? run("packed_linear", x, packed) : run("packed_linear_b", x, packed, bias);
    }

    /**
     * Per-token log-probs of labels straight from hidden states, the language-model head applied to
     * {@code chunk} rows at a time so that no [N, V] logits array is ever whole: per chunk the logits,
     * their log-sum-exp, the label's log-prob and whether the argmax is the label, and — for the
     * objective Σₜ coefₜ·log p(labelₜ) — its gradients with respect to the hidden states
     * (Σ_v gₜᵥ·W_v) and the head weight (Σₜ gₜᵥ·hₜ), where gₜᵥ = coefₜ·(1[v = labelₜ] − pₜᵥ) is the
     * gradient of the objective with respect to the logits. Not differentiable itself (inputs must not
     * carry a graph): callers attach the gradients ({@link dev.align.core.scoring.LogProbs#headObjective}).
     *
     * @param h [N, H]
     * @param w [V, H]
     * @param labels [N] INT64
     * @param coef [N] FLOAT32
     * @param chunk rows per chunk
     * @param gradH whether to compute the hidden-state gradient (else an empty array)
     * @param gradW whether to compute the head-weight gradient (else an empty array)
     * @return log p(label) [N], argmax = label as 0/1 [N], d/dh [N, H], d/dW [V, H]
     */
    public static NDList headLogProbs(NDArray h, NDArray w, NDArray labels, NDArray coef, long chunk,
            boolean gradH, boolean gradW) {
        // Through callList, not run: run's results are inference tensors, which autograd refuses to save,
        // and the caller's surrogate saves the gradients for backward.
        try (NDArray options = h.getManager().create(new long[] {chunk, gradH ? 1 : 0, gradW ? 1 : 0})) {
            return callList("head_logprobs", h, w, labels, coef, options);
        }
    }

    /**
     * Whether backward reaches {@code x}: a leaf that requires a gradient or the result of a recorded
     * operation. (DJL's {@code JniUtils.requiresGrad} answers false for the latter, and its
     * {@code getGradientFunctionNames} crashes on leaves.)
     */
    public static boolean requiresGrad(NDArray x) {
        PLAIN_EXECUTOR.get();
        IValue a = IValue.from((PtNDArray) x);
        try (IValue out = IValueUtils.runMethod(module(), "requires_grad", a)) {
            return out.toBoolean();
        } finally {
            a.close();
        }
    }

    /**
     * Runs a method on tensors passed as they are (named ones included, which {@link #call} would read as
     * structure hints) and returns its tensor on the first input's manager. For inference: callers keep
     * these calls out of gradient recording.
     */
    private static NDArray run(String method, NDArray... inputs) {
        PLAIN_EXECUTOR.get();
        IValue[] args = new IValue[inputs.length];
        try {
            for (int i = 0; i < inputs.length; i++) {
                args[i] = IValue.from((PtNDArray) inputs[i]);
            }
            try (IValue out = IValueUtils.runMethod(module(), method, args)) {
                return out.toTensor((PtNDManager) inputs[0].getManager());
            }
        } finally {
            for (IValue a : args) {
                if (a != null) {
                    a.close();
                }
            }
        }
    }

    /**
     * One cached decoding step of a llama-family model (RMSNorm, rotary positions, grouped-query SDPA
     * attention, SiLU-gated MLP) as a single TorchScript call: the layers' ~40 operators each run inside
     * libtorch instead of one JNI round trip apiece. Writes the new keys and values into the caches at
     * slots [start, start + T) in place. Inference only.
     *
     * @param ids [B, T] INT64
     * @param positions [B, T] INT64
     * @param mask additive [B, 1, T, start + T]
     * @param weights embedding, inverse rotary frequencies, final norm, head, an empty tensor, then per
     *     layer: norm 1, q/k/v weight, q/k/v bias, o weight, o bias, norm 2, gate/up weight, gate/up bias,
     *     down weight, down bias (linear weights from {@link #packLinear}; an empty tensor for no bias)
     * @param keys per layer [B, K, capacity, D]
     * @param values per layer [B, K, capacity, D]
     * @param dims layers, heads, key/value heads, head dim, intermediate size
     * @param floats the norm epsilon and the attention scale
     * @return logits [B, V] at the last position
     */
    public static NDArray decodeLlama(NDArray ids, NDArray positions, NDArray mask, long start, IValue weights,
            IValue keys, IValue values, IValue dims, IValue floats) {
        PLAIN_EXECUTOR.get();
        IValue[] args = {IValue.from((PtNDArray) ids), IValue.from((PtNDArray) positions),
            IValue.from((PtNDArray) mask), IValue.from(start), weights, keys, values, dims, floats};
        try (IValue out = IValueUtils.runMethod(module(), "decode_llama", args)) {
            return out.toTensor((PtNDManager) ids.getManager());
        } finally {
            for (int i = 0; i < 4; i++) { // the per-step ones; the lists belong to the caller
                args[i].close();
            }
        }
    }

    /**
     * x·Wᵀ + b outside gradient recording (the script detaches its inputs), through oneDNN: the weight reordered into its blocked layout
     * for this call (a copy of W), then oneDNN's inner product — at a training step's shapes ([B·T, 512]
     * by [512, N]) ~220 GFLOP/s here against 160–190 for the MKL sgemm that {@code linear} uses. The
     * result does not require a gradient.
     *
     * @param x [..., K]
     * @param w [N, K]
     * @param b [N] or null
     * @return [..., N]
     */
    public static NDArray linearNoGrad(NDArray x, NDArray w, NDArray b) {
        // detached handles: parameters carry names, which callList would read as structure hints
        try (NDArray wd = w.stopGradient();
                NDArray bd = b == null ? x.getManager().create(new Shape(0)) : b.stopGradient()) {
            return call("lin_fwd", x, wd, bd);
        }
    }

    /**
     * The backward of {@link #linearNoGrad}, y = x·Wᵀ + b: returns dX = dY·W (oneDNN, with Wᵀ reordered
     * for this call) and accumulates dW += dYᵀ·X (MKL, in place into W's gradient) and db += Σ dY
     * into the parameters' gradients, creating them if backward has not reached them yet.
     *
     * @param gy dY [..., N]
     * @param x the forward's input [..., K]
     * @param w [N, K], requiring a gradient
     * @param b [N] requiring a gradient, or null
     * @return dX [..., K]
     */
    public static NDArray linearBackward(NDArray gy, NDArray x, NDArray w, NDArray b) {
        NDManager m = gy.getManager();
        NDArray gw = JniUtils.getGradient((PtNDArray) w);
        NDArray gb = b == null ? null : JniUtils.getGradient((PtNDArray) b);
        try (NDArray wd = w.stopGradient();
                NDArray gwIn = gw != null ? gw : m.create(new Shape(0));
                NDArray gbIn = gb != null ? gb : m.create(new Shape(0));
                NDArray flags = m.create(new long[] {gw != null ? 1 : 0, b != null ? 1 : 0, gb != null ? 1 : 0})) {
            NDList out = callList("lin_bwd", gy, x, wd, gwIn, gbIn, flags);
            installFirst(w, gw, out.get(1));
            if (b != null) {
                installFirst(b, gb, out.get(2));
            } else {
                out.get(2).close();
            }
            return out.get(0);
        }
    }

    /**
     * RMSNorm, differentiable: x · r · w with r = 1/sqrt(mean(x²) + ε) per row — the operators of
     * {@link #rmsNormNoGrad}, so that a recorded and an unrecorded forward agree to the bit.
     *
     * @param x [..., H]
     * @param w [H], unnamed (a parameter's name would be read as a structure hint: pass a view)
     * @param eps 0-dim ε
     * @return [..., H]
     */
    public static NDArray rmsNorm(NDArray x, NDArray w, NDArray eps) {
        return call("rms_norm", x, w, eps);
    }

    /**
     * RMSNorm outside gradient recording: h = x · r · w with r = 1/sqrt(mean(x²) + ε) per row.
     *
     * @param x [B, T, H]
     * @param w [H]
     * @param eps 0-dim ε
     * @return h [B, T, H] and r [B, T, 1] (for {@link #rmsNormBackward})
     */
    public static NDList rmsNormNoGrad(NDArray x, NDArray w, NDArray eps) {
        try (NDArray wd = w.stopGradient()) {
            return callList("rms_fwd", x, wd, eps);
        }
    }

    /**
     * The backward of {@link #rmsNormNoGrad}: returns res + dL/dx = res + r · (g·w − x · r² · mean(g·w·x))
     * and accumulates dL/dw += Σ g · x · r into w's gradient (creating it if backward has not reached it).
     *
     * @param g dL/dh [B, T, H]
     * @param x the forward's input [B, T, H]
     * @param r the forward's 1/sqrt(mean(x²) + ε) [B, T, 1]
     * @param w [H], requiring a gradient
     * @param res a gradient to add to dL/dx (the residual stream's) [B, T, H]
     * @return res + dL/dx [B, T, H]
     */
    public static NDArray rmsNormBackward(NDArray g, NDArray x, NDArray r, NDArray w, NDArray res) {
        NDArray gw = JniUtils.getGradient((PtNDArray) w);
        try (NDArray wd = w.stopGradient(); NDArray gwIn = gw != null ? gw : g.getManager().create(new Shape(0))) {
            NDList out = callList("rms_bwd", g, x, r, wd, gwIn, res);
            installFirst(w, gw, out.get(1));
            return out.get(0);
        }
    }

    /**
     * After a hand-written backward: where {@code param} had no gradient yet ({@code existing} null),
     * autograd installs {@code computed} as its gradient; otherwise the script has already added it in
     * place. Closes the handle {@code computed}.
     */
    private static void installFirst(NDArray param, NDArray existing, NDArray computed) {
        if (existing == null) {
            JniUtils.backward((PtNDArray) param, (PtNDArray) computed, false, false);
        }
        computed.close();
    }

    /** silu(g) · u, differentiable (fused SiLU forward and backward). */
    public static NDArray siluMul(NDArray g, NDArray u) {
        return call("silu_mul", g, u);
    }

    /** GELU with the tanh approximation (GPT-2's {@code gelu_new}), differentiable. */
    public static NDArray geluTanh(NDArray x) {
        return call("gelu_tanh", x);
    }

    /** silu(g) = g · sigmoid(g), differentiable. */
    public static NDArray silu(NDArray g) {
        return call("silu", g);
    }

    /**
     * One fused AdamW update of every parameter (torch.optim.AdamW semantics, {@code fused=True}),
     * off the autograd tape. {@code steps} hold each parameter's step count as a 1-element FLOAT32
     * tensor, already incremented for this step.
     */
    public static void adamw(List<NDArray> params, List<NDArray> grads, List<NDArray> m, List<NDArray> v,
            List<NDArray> steps, double lr, double b1, double b2, double wd, double eps) {
        IValue[] args = {
            list(params), list(grads), list(m), list(v), list(steps),
            IValue.from(lr), IValue.from(b1), IValue.from(b2), IValue.from(wd), IValue.from(eps)
        };
        PLAIN_EXECUTOR.get();
        try (IValue r = IValueUtils.runMethod(module(), "adamw", args)) {
            // result is steps[0]; nothing to read
        } finally {
            for (IValue a : args) {
                a.close();
            }
        }
    }

    /** The global 2-norm of all {@code grads} (one reduction per tensor, fused), as a host float. */
    public static float globalNorm(List<NDArray> grads) {
        IValue g = list(grads);
        try (IValue r = IValueUtils.runMethod(module(), "grad_norm", g)) {
            try (NDArray n = r.toTensor((PtNDManager) grads.get(0).getManager())) {
                return n.getFloat();
            }
        } finally {
            g.close();
        }
    }

    /** Multiplies every gradient by {@code factor} (0-dim) in place. */
    public static void scaleInPlace(List<NDArray> grads, NDArray factor) {
        IValue g = list(grads);
        IValue f = IValue.from((PtNDArray) factor);
        try (IValue r = IValueUtils.runMethod(module(), "scale_", g, f)) {
            // in place
        } finally {
            g.close();
            f.close();
        }
    }

    /** Zeroes every tensor in place. */
    public static void zeroInPlace(List<NDArray> tensors) {
        IValue g = list(tensors);
        try (IValue r = IValueUtils.runMethod(module(), "zero_", g)) {
            // in place
        } finally {
            g.close();
        }
    }

    private static IValue list(List<NDArray> arrays) {
        PtNDArray[] a = new PtNDArray[arrays.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (PtNDArray) arrays.get(i);
        }
        return IValue.listFrom(a);
    }
}
