package dev.unetlens.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.concurrent.ConcurrentHashMap;

/**
 * torch.nn.GroupNorm: each of {@code groups} channel groups normalised over its channels and positions, then a
 * per-channel affine. x [B, C, H, W] (or [B, C, ...]) → same shape.
 *
 * <p>DJL has no group norm; this is the identity torch documents: a layer norm over the (C/G·H·W) values of each
 * group of the [B, G, C/G·H·W] view, followed by the affine.
 */
public final class GroupNorm extends Module {
    private final int groups;
    private final long channels;
    private final float eps;
    private final NDArray weight;   // [C, 1, 1]
    private final NDArray bias;     // [C, 1, 1]
    private final NDManager manager;
    private final ConcurrentHashMap<Long, NDArray[]> unitAffine = new ConcurrentHashMap<>();

    public GroupNorm(Weights w, String path, int groups, long channels, double eps) {
        super(path);
        if (channels % groups != 0) {
            throw new dev.unetlens.config.ConfigException(path + ": " + channels
                    + " channels cannot be split into norm_num_groups=" + groups + " groups");
        }
        this.groups = groups;
        this.channels = channels;
        this.eps = (float) eps;
        this.weight = w.take(sub("weight"), channels);
        this.bias = w.take(sub("bias"), channels);
        this.manager = w.manager();
    }

    public NDArray forward(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long k = s.size() / b / groups;                              // values per group
        NDArray[] unit = unitAffine.computeIfAbsent(k, this::unit);  // layer_norm needs an affine: use 1 and 0
        NDArray g = x.reshape(b, groups, k);                         // [B, G, C/G·H·W]
        NDArray n = ai.djl.nn.norm.LayerNorm.layerNorm(g, new Shape(k), unit[0], unit[1], eps).singletonOrThrow();
        NDArray y = n.reshape(s);
        g.close();                                                   // views hold their storage: without these
        n.close();                                                   // two, x and y would live until the scope ends
        long[] affine = new long[s.dimension() - 1];                 // [C, 1, 1] for NCHW
        java.util.Arrays.fill(affine, 1);
        affine[0] = channels;
        y.muli(weight.reshape(affine)).addi(bias.reshape(affine));   // in place: y is ours
        return emit(x, y);
    }

    private NDArray[] unit(long k) {
        return new NDArray[] {
            ForwardScope.detach(manager.ones(new Shape(k))),
            ForwardScope.detach(manager.zeros(new Shape(k)))
        };
    }
}
