package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.Module;
import dev.unetlens.model.ResnetBlock2D;
import dev.unetlens.model.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers unet_2d_blocks.py {@code UNetMidBlock2DCrossAttn} (num_layers 1): resnets.0 → attentions.0 →
 * resnets.1, the resnets dividing by {@code mid_block_scale_factor}. h [B, C, H, W], temb [B, Ct], context
 * [B, S, Dc] → [B, C, H, W]; hook: this path, whose replacement is the first up block's input (the skips are
 * not affected: they were all taken on the way down).
 */
public final class UNetMidBlock2DCrossAttn extends Module {
    private final List<ResnetBlock2D> resnets = new ArrayList<>();
    private final List<Transformer2DModel> attentions = new ArrayList<>();

    public UNetMidBlock2DCrossAttn(Weights w, String path, BlockArgs a) {
        super(path);
        resnets.add(add(new ResnetBlock2D(w, sub("resnets.0"), a.resnet(a.in(), a.in()))));
        for (int j = 0; j < a.layers(); j++) {
            attentions.add(add(new Transformer2DModel(w, sub("attentions." + j), a.in(), a.transformerLayers().get(j), a)));
            resnets.add(add(new ResnetBlock2D(w, sub("resnets." + (j + 1)), a.resnet(a.in(), a.in()))));
        }
    }

    public NDArray forward(NDArray x, NDArray temb, NDArray context) {
        NDArray h;
        try (ForwardScope scope = new ForwardScope()) {
            h = resnets.getFirst().forward(x, temb);                             // [B, C, H, W]
            for (int j = 0; j < attentions.size(); j++) {
                h = attentions.get(j).forward(h, context);
                h = resnets.get(j + 1).forward(h, temb);
            }
            h = scope.keep(h);
        }
        return emit(x, h);
    }

    long[] shapes(ShapeSink s, long[] x) {
        s.resnet(resnets.getFirst(), x, x[1]);
        for (int j = 0; j < attentions.size(); j++) {
            attentions.get(j).shapes(s, x);
            s.resnet(resnets.get(j + 1), x, x[1]);
        }
        return s.put(this, x);
    }
}
