package dev.align.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.align.core.AlignException;
import dev.align.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The loss curve of a run as a PNG (XChart, rendered headless). */
final class LossPlot {
    private LossPlot() {}

    /**
     * Plots {@code loss} (and {@code eval_loss} if present) against {@code step} from metrics lines into
     * {@code png}; writes nothing if no line has a loss.
     */
    static void write(Path png, List<JsonNode> lines) {
        List<Double> steps = new ArrayList<>();
        List<Double> loss = new ArrayList<>();
        List<Double> evalSteps = new ArrayList<>();
        List<Double> evalLoss = new ArrayList<>();
        for (JsonNode n : lines) {
            if (n.path("loss").isNumber()) {
                steps.add(n.path("step").asDouble());
                loss.add(n.path("loss").asDouble());
            }
            if (n.path("eval_loss").isNumber()) {
                evalSteps.add(n.path("step").asDouble());
                evalLoss.add(n.path("eval_loss").asDouble());
            }
        }
        if (loss.isEmpty()) {
            return;
        }
        System.setProperty("java.awt.headless", "true"); // before the first AWT class loads
        org.knowm.xchart.XYChart chart = new org.knowm.xchart.XYChartBuilder()
                .width(900).height(500).title("Loss").xAxisTitle("step").yAxisTitle("loss").build();
        chart.getStyler().setMarkerSize(loss.size() > 60 ? 0 : 4);
        chart.addSeries("loss", steps, loss);
        if (!evalLoss.isEmpty()) {
            chart.addSeries("eval_loss", evalSteps, evalLoss);
        }
        byte[] bytes;
        try {
            bytes = org.knowm.xchart.BitmapEncoder.getBitmapBytes(chart, org.knowm.xchart.BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new AlignException(png + ": cannot render the loss plot: " + e.getMessage(), e);
        }
        AtomicFiles.write(png, ch -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }
}
