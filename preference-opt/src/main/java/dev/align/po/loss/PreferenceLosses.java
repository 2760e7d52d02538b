package dev.align.po.loss;

import dev.align.core.BadInputException;
import java.util.List;

/** Builds the objective a config's {@code loss_type} names. */
public final class PreferenceLosses {
    /** The {@code loss_type} values accepted. */
    public static final List<String> TYPES = List.of("sigmoid", "robust", "hinge", "ipo", "simpo", "orpo");

    private PreferenceLosses() {}

    /**
     * The objective for {@code lossType}.
     *
     * @param beta β (λ for ORPO)
     * @param labelSmoothing ε for sigmoid (cDPO), robust and simpo
     * @param simpoGamma γ for simpo
     */
    public static PreferenceLoss create(String lossType, double beta, double labelSmoothing, double simpoGamma) {
        if (!(beta > 0)) {
            throw new BadInputException("beta must be positive, got " + beta);
        }
        switch (lossType) {
            case "sigmoid":
                return new SigmoidLoss(beta, labelSmoothing);
            case "robust":
                return new RobustLoss(beta, labelSmoothing);
            case "hinge":
                return new HingeLoss(beta);
            case "ipo":
                return new IpoLoss(beta);
            case "simpo":
                return new SimPoLoss(beta, simpoGamma, labelSmoothing);
            case "orpo":
                return new OrpoLoss(beta);
            default:
                throw new BadInputException("unknown loss_type '" + lossType + "' (one of " + String.join(", ", TYPES) + ")");
        }
    }
}
