package dev.align.po.ppo;

import dev.align.core.BadInputException;
import dev.align.po.rl.KlEstimator;
import java.util.Locale;

/**
 * PPO's own keys (TRL's {@code PPOConfig} and {@code OnPolicyConfig} beyond {@code TrainingArguments}),
 * bound with {@code TrainingArgs}, {@code DataSettings} and {@code RewardArgs} from one flat namespace.
 * Defaults are TRL's; the adaptive KL controller's keys are those of TRL's earlier PPOTrainer
 * ({@code adap_kl_ctrl}, {@code target}, {@code horizon}), off by default as in TRL's current one.
 *
 * <p>Batch sizes as in TRL: a rollout has {@code batch_size × gradient_accumulation_steps ×
 * num_mini_batches} prompts (one completion each); each PPO epoch splits it into {@code num_mini_batches}
 * mini-batches, one optimizer step each, taken over {@code gradient_accumulation_steps} micro-batches of
 * {@code batch_size}.
 *
 * @param valueModel the critic's starting point (a reward-model directory: its transformer and score head
 *     become the value model); null for {@code reward_model}, TRL's default
 * @param numPpoEpochs passes over each rollout
 * @param numMiniBatches optimizer steps per pass
 * @param totalEpisodes prompts to train on in all (rollouts = ceil(total_episodes / rollout size)); null
 *     for max_steps or epochs × the number of prompts
 * @param whitenRewards whiten the per-token rewards before GAE
 * @param klCoef β of the KL penalty (the initial β with adap_kl_ctrl)
 * @param klEstimator {@code k1} (log π − log ref) or {@code k3}
 * @param adapKlCtrl adapt β towards {@code target} (Ziegler et al. 2019)
 * @param target the adaptive controller's target KL (nats per completion)
 * @param horizon the adaptive controller's horizon (samples)
 * @param cliprange ε of the clipped policy objective
 * @param vfCoef the value loss's weight
 * @param cliprangeValue ε_v of the clipped value loss
 * @param gamma γ, the discount
 * @param lam λ of GAE
 * @param responseLength the most new tokens per completion
 * @param temperature sampling temperature (&gt; 0)
 * @param topK top-k sampling (0 = off)
 * @param topP nucleus sampling (1 = off)
 * @param localRolloutForwardBatchSize rows per gradient-free forward (reference, critic, reward model)
 *     and per generate call (0 = the whole rollout at once)
 */
public record PpoArgs(
        String valueModel,
        int numPpoEpochs,
        int numMiniBatches,
        Long totalEpisodes,
        boolean whitenRewards,
        double klCoef,
        String klEstimator,
        boolean adapKlCtrl,
        double target,
        double horizon,
        double cliprange,
        double vfCoef,
        double cliprangeValue,
        double gamma,
        double lam,
        int responseLength,
        double temperature,
        int topK,
        double topP,
        int localRolloutForwardBatchSize) {

    /** TRL's PPOConfig / OnPolicyConfig defaults (adaptive KL: TRL 0.x's target 6, horizon 10000, off). */
    public static PpoArgs defaults() {
        return new PpoArgs(null, 4, 1, null, false, 0.05, "k1", false, 6.0, 10000, 0.2, 0.1, 0.2, 1.0, 0.95, 53, 0.7, 0,
                1.0, 64);
    }

    /** Checks the values; errors name the key. */
    public PpoArgs validate() {
        require(numPpoEpochs >= 1, "num_ppo_epochs", "must be ≥ 1");
        require(numMiniBatches >= 1, "num_mini_batches", "must be ≥ 1");
        require(totalEpisodes == null || totalEpisodes >= 1, "total_episodes", "must be ≥ 1");
        require(klCoef >= 0 && Double.isFinite(klCoef), "kl_coef", "must be ≥ 0");
        estimator();
        require(!adapKlCtrl || target > 0, "target", "must be > 0");
        require(!adapKlCtrl || horizon > 0, "horizon", "must be > 0");
        require(cliprange > 0 && cliprange < 1, "cliprange", "must be in (0, 1)");
        require(vfCoef >= 0, "vf_coef", "must be ≥ 0");
        require(cliprangeValue > 0, "cliprange_value", "must be > 0");
        require(gamma >= 0 && gamma <= 1, "gamma", "must be in [0, 1]");
        require(lam >= 0 && lam <= 1, "lam", "must be in [0, 1]");
        require(responseLength >= 1, "response_length", "must be ≥ 1");
        require(temperature > 0 && Double.isFinite(temperature), "temperature", "must be > 0 (PPO samples)");
        require(topK >= 0, "top_k", "must be ≥ 0");
        require(topP > 0 && topP <= 1, "top_p", "must be in (0, 1]");
        require(localRolloutForwardBatchSize >= 0, "local_rollout_forward_batch_size", "must be ≥ 0");
        return this;
    }

    /** {@code kl_estimator} parsed. */
    public KlEstimator estimator() {
        String s = klEstimator == null ? "" : klEstimator.toLowerCase(Locale.ROOT);
        return switch (s) {
            case "k1" -> KlEstimator.K1;
            case "k3" -> KlEstimator.K3;
            default -> throw new BadInputException("kl_estimator: must be k1 or k3, got '" + klEstimator + "'");
        };
    }

    private static void require(boolean ok, String key, String what) {
        if (!ok) {
            throw new BadInputException(key + ": " + what);
        }
    }
}
