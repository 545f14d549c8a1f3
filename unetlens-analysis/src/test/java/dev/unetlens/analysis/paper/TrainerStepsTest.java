package dev.unetlens.analysis.paper;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A softmax probe whose gradients sum to exactly 0 (zero inputs, zero weights: p = (½, ½), bias gradients (−½, ½)):
 * DJL's own first step refuses it, {@link TrainerSteps} takes it; a step without backward is still refused.
 */
class TrainerStepsTest {
    private static Model probe() {
        Model model = Model.newInstance("probe", Device.cpu(), "PyTorch");
        model.setBlock(Linear.builder().setUnits(2).build());
        return model;
    }

    private static Trainer trainer(Model model) {
        Trainer t = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.5f)).build())
                .optInitializer(new ConstantInitializer(0), p -> true)
                .optDevices(new Device[] {Device.cpu()}));
        t.initialize(new Shape(4, 3));
        return t;
    }

    private static void backward(Trainer t) {
        NDArray x = t.getManager().zeros(new Shape(4, 3));
        NDArray labels = t.getManager().zeros(new Shape(4));
        try (GradientCollector gc = t.newGradientCollector()) {
            NDList pred = t.forward(new NDList(x));
            gc.backward(t.getLoss().evaluate(new NDList(labels), pred));
        }
    }

    @Test
    void aStepWhoseGradientsSumToZeroIsTaken() {
        try (Model model = probe(); Trainer t = trainer(model)) {
            backward(t);
            assertThatThrownBy(t::step).as("DJL's own first step").hasMessageContaining("Gradient values are all zeros");
            TrainerSteps.step(t);
            float[] bias = model.getBlock().getParameters().get("bias").getArray().toFloatArray();
            assertThat(bias[0]).as("class 0, the label, gained").isPositive();
            assertThat(bias[1]).isNegative();
        }
    }

    @Test
    void aStepWithoutBackwardIsRefused() {
        try (Model model = probe(); Trainer t = trainer(model)) {
            assertThatThrownBy(() -> TrainerSteps.step(t)).hasMessageContaining("every gradient of the probe is zero");
        }
    }
}
