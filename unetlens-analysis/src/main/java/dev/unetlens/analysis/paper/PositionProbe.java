package dev.unetlens.analysis.paper;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.FeatureStream.MapShape;
import dev.unetlens.analysis.paper.PaperMaps.ImageMaps;
import dev.unetlens.pipeline.Progress;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The paper's positional probe ({@code run_position_estimation}): per module, a linear map from the C channels of one
 * token to its position, trained with DJL's training API on the PyTorch engine (autograd, DJL's Adam, its softmax
 * cross-entropy) on the tokens of the first 80 % of the images and tested on the rest after every epoch.
 *
 * <p>Two heads, rows over H classes and columns over W classes, are one {@code Linear(C, H + W)} whose outputs split
 * into H row and W column logits; the loss is the mean of the two cross-entropies. The paper's
 * {@code Linear(C, w + h)} read as {@code view(-1, w, 2)} is, for square maps, the same model with its outputs
 * interleaved (output 2k + a is class k of axis a) and the same loss (cross-entropy averaged over both axes); our
 * split also works for H ≠ W. Initialised as torch initialises a Linear (weights and biases uniform in ±1/√C) from
 * the engine's generator seeded with {@code seed}; batches shuffled each epoch by {@code java.util.Random(seed)}.
 *
 * <p>Accuracy at a grid g: a prediction p of label ℓ on an n-wide axis counts when ⌊p·g/n⌋ = ⌊ℓ·g/n⌋, and a token
 * counts when both coordinates do; the paper's script averages the two coordinates instead ({@code perAxis}).
 */
public final class PositionProbe {
    private PositionProbe() {
    }

    /**
     * @param epochs     passes over the training tokens (paper: 5)
     * @param batch      tokens per step (paper: 512)
     * @param lr         Adam's learning rate (paper: 1e-3)
     * @param seed       initialisation and shuffling (paper: 42)
     * @param trainShare share of the images to train on, the first ones (paper: 0.8)
     * @param grids      grid sizes of the accuracies (paper: 8, 16, 32, 64)
     */
    public record Settings(int epochs, int batch, float lr, long seed, double trainShare, List<Integer> grids) {
        public static final Settings PAPER = new Settings(5, 512, 1e-3f, 42, 0.8, List.of(8, 16, 32, 64));

        public Settings {
            grids = List.copyOf(grids);
            if (epochs < 1 || batch < 1 || !(lr > 0) || !(trainShare > 0 && trainShare < 1) || grids.isEmpty()) {
                throw new UnetlensException("probe settings out of range: " + epochs + " epochs, batch " + batch + ", lr " + lr);
            }
        }

        /** Images to train on: int(n · share), as the paper. */
        public int trainImages(int n) {
            return (int) (n * trainShare);
        }
    }

    /**
     * One module's probe.
     *
     * @param height   H (row classes)
     * @param width    W (column classes)
     * @param train    training images
     * @param test     test images
     * @param loss     [epochs] mean training loss
     * @param accuracy [epochs][grids] both coordinates right
     * @param perAxis  [epochs][grids] the paper's: mean over the two coordinates
     * @param chance   [grids] both right by guessing uniformly: 1 / (min(g, H) · min(g, W))
     */
    public record Result(int height, int width, int train, int test, double[] loss, double[][] accuracy,
                         double[][] perAxis, double[] chance) {
    }

    /**
     * The number of training images out of {@code n}; fails when the split leaves no training or no test image (a run
     * checks this before extracting anything).
     */
    public static int checkImages(int n, Settings s) {
        int nTrain = s.trainImages(n);
        if (nTrain < 1 || nTrain >= n) {
            throw new UnetlensException("the probe trains on " + (int) (s.trainShare() * 100) + " % of the images and tests on"
                    + " the rest; " + n + " image" + (n == 1 ? " is" : "s are") + " too few (at least 2)");
        }
        return nTrain;
    }

    /** Trains one probe per module of the maps (each image's tokens kept). */
    public static Map<String, Result> trainAll(PaperMaps maps, Settings s, Progress progress) {
        Map<String, Result> out = new LinkedHashMap<>();
        progress.start("training position probes", maps.modules().size());
        int done = 0;
        for (String m : maps.modules()) {
            out.put(m, train(maps.maps(m), maps.shape(0, m), s));
            progress.advance(++done, m);
        }
        progress.finish();
        return out;
    }

    /** Trains and tests the probe of one module; every image's map must have the shape of the first. */
    public static Result train(List<ImageMaps> images, MapShape shape, Settings s) {
        int n = images.size();
        int nTrain = checkImages(n, s);
        for (ImageMaps im : images) {
            if (im.tokens().length != shape.size()) {
                throw new UnetlensException("the probe needs every image's map at one size; image " + im.image()
                        + " differs (give images of one size, or --resize)");
            }
        }
        int c = shape.channels();
        int h = shape.height();
        int w = shape.width();
        int p = shape.positions();
        if (p == 1) {
            return onePosition(s, nTrain, n);
        }
        Engine engine = Engine.getEngine("PyTorch");
        engine.setRandomSeed((int) s.seed());
        double[] losses = new double[s.epochs()];
        double[][] acc = new double[s.epochs()][];
        double[][] perAxis = new double[s.epochs()][];
        try (Model model = Model.newInstance("position-probe", Device.cpu(), "PyTorch")) {
            model.setBlock(Linear.builder().setUnits(h + w).build());
            float bound = (float) (1 / Math.sqrt(c));
            DefaultTrainingConfig config = new DefaultTrainingConfig(new TwoHeads(h, w))
                    .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(s.lr())).build())
                    .optInitializer(new UniformInitializer(bound), Parameter.Type.WEIGHT)
                    .optInitializer(new UniformInitializer(bound), Parameter.Type.BIAS)
                    .optDevices(new Device[] {Device.cpu()});
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(s.batch(), c));
                NDManager m = trainer.getManager();
                int trainTokens = nTrain * p;
                Random shuffle = new Random(s.seed());
                for (int e = 0; e < s.epochs(); e++) {
                    losses[e] = epoch(trainer, m, images, trainTokens, p, c, w, s.batch(), permutation(trainTokens, shuffle));
                    double[][] a = test(trainer, m, images.subList(nTrain, n), p, c, h, w, s.grids());
                    acc[e] = a[0];
                    perAxis[e] = a[1];
                }
            }
        }
        double[] chance = s.grids().stream().mapToDouble(g -> 1.0 / (Math.min(g, h) * Math.min(g, w))).toArray();
        return new Result(h, w, nTrain, n - nTrain, losses, acc, perAxis, chance);
    }

    /**
     * A 1×1 map: one position, nothing to learn (both cross-entropies are 0 for any weights, and DJL refuses a step
     * whose gradients are all zero); every prediction is right.
     */
    static Result onePosition(Settings s, int nTrain, int n) {
        double[][] ones = new double[s.epochs()][s.grids().size()];
        for (double[] row : ones) {
            java.util.Arrays.fill(row, 1.0);
        }
        double[] chance = new double[s.grids().size()];
        java.util.Arrays.fill(chance, 1.0);
        return new Result(1, 1, nTrain, n - nTrain, new double[s.epochs()], ones, ones, chance);
    }

    static int[] permutation(int n, Random r) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        return idx;
    }

    private static double epoch(Trainer trainer, NDManager m, List<ImageMaps> images, int tokens, int p, int c, int w,
                                int batch, int[] order) {
        double sum = 0;
        int steps = 0;
        for (int i0 = 0; i0 < tokens; i0 += batch) {
            int b = Math.min(batch, tokens - i0);
            float[] x = new float[b * c];
            long[] rows = new long[b];
            long[] cols = new long[b];
            for (int i = 0; i < b; i++) {
                int t = order[i0 + i];
                System.arraycopy(images.get(t / p).tokens(), (t % p) * c, x, i * c, c);
                rows[i] = (t % p) / w;
                cols[i] = (t % p) % w;
            }
            try (NDManager sub = m.newSubManager()) {
                NDList labels = new NDList(sub.create(rows), sub.create(cols));
                try (GradientCollector gc = trainer.newGradientCollector()) {
                    NDList pred = trainer.forward(new NDList(sub.create(x, new Shape(b, c))), labels);
                    NDArray loss = trainer.getLoss().evaluate(labels, pred);
                    sum += loss.getFloat();
                    gc.backward(loss);
                }
                TrainerSteps.step(trainer);
            }
            steps++;
        }
        return sum / steps;
    }

    /** [0]: both coordinates right per grid; [1]: mean over the two coordinates per grid. */
    private static double[][] test(Trainer trainer, NDManager m, List<ImageMaps> images, int p, int c, int h, int w,
                                   List<Integer> grids) {
        long[] both = new long[grids.size()];
        long[] axes = new long[grids.size()];
        long total = 0;
        for (ImageMaps im : images) {
            try (NDManager sub = m.newSubManager()) {
                NDArray logits = trainer.evaluate(new NDList(sub.create(im.tokens(), new Shape(p, c)))).singletonOrThrow();
                long[] row = logits.get(":, 0:" + h).argMax(1).toLongArray();
                long[] col = logits.get(":, " + h + ":").argMax(1).toLongArray();
                for (int t = 0; t < p; t++) {
                    for (int g = 0; g < grids.size(); g++) {
                        int grid = grids.get(g);
                        boolean r = row[t] * grid / h == (long) (t / w) * grid / h;
                        boolean k = col[t] * grid / w == (long) (t % w) * grid / w;
                        both[g] += r && k ? 1 : 0;
                        axes[g] += (r ? 1 : 0) + (k ? 1 : 0);
                    }
                }
                total += p;
            }
        }
        double[][] out = new double[2][grids.size()];
        for (int g = 0; g < grids.size(); g++) {
            out[0][g] = (double) both[g] / total;
            out[1][g] = (double) axes[g] / (2.0 * total);
        }
        return out;
    }

    /** The loss of the two heads: the mean of the row and the column softmax cross-entropies. */
    static final class TwoHeads extends Loss {
        private final int h;
        private final SoftmaxCrossEntropyLoss ce = new SoftmaxCrossEntropyLoss("ce");

        TwoHeads(int h, int w) {
            super("two-heads");
            this.h = h;
        }

        @Override
        public NDArray evaluate(NDList labels, NDList predictions) {
            NDArray logits = predictions.singletonOrThrow();
            NDArray rows = ce.evaluate(new NDList(labels.get(0)), new NDList(logits.get(":, 0:" + h)));
            NDArray cols = ce.evaluate(new NDList(labels.get(1)), new NDList(logits.get(":, " + h + ":")));
            return rows.add(cols).div(2);
        }
    }
}
