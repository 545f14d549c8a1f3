package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.ResnetBlock2D;
import dev.unetlens.model.Upsample2D;
import dev.unetlens.model.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers unet_2d_blocks.py {@code CrossAttnUpBlock2D}: (cat skip → resnet → Transformer2DModel) × layers, then
 * (except in the last level) nearest upsampling + 3×3 conv. See {@link UpBlock} for the skips and the size.
 */
public final class CrossAttnUpBlock2D extends UpBlock {
    private final List<ResnetBlock2D> resnets = new ArrayList<>();
    private final List<Transformer2DModel> attentions = new ArrayList<>();
    private final Upsample2D upsampler;   // upsamplers.0, null in the last block
    private final long out;

    public CrossAttnUpBlock2D(Weights w, String path, BlockArgs a) {
        super(path);
        for (int j = 0; j < a.layers(); j++) {
            long skip = j == a.layers() - 1 ? a.in() : a.out();                  // the last pops the level above's
            long in = j == 0 ? a.prevOut() : a.out();
            resnets.add(add(new ResnetBlock2D(w, sub("resnets." + j), a.resnet(in + skip, a.out()))));
            attentions.add(add(new Transformer2DModel(w, sub("attentions." + j), a.out(), a.transformerLayers().get(j), a)));
        }
        upsampler = a.resample() ? add(new Upsample2D(w, sub("upsamplers.0"), a.out())) : null;
        out = a.out();
    }

    @Override
    public int resnetCount() {
        return resnets.size();
    }

    @Override
    public NDArray forward(NDArray x, List<NDArray> skips, NDArray temb, NDArray context, long[] upsampleSize) {
        NDArray h = x;
        try (ForwardScope scope = new ForwardScope()) {
            for (int j = 0; j < resnets.size(); j++) {
                NDArray skip = skips.get(skips.size() - 1 - j);                   // popped from the end
                h = resnets.get(j).forward(h.concat(skip, 1), temb);              // [B, Ch + Cskip, H, W] → [B, Cout, H, W]
                h = attentions.get(j).forward(h, context);
            }
            if (upsampler != null) {
                h = upsampler.forward(h, upsampleSize[0], upsampleSize[1]);       // [B, Cout, height, width]
            }
            h = scope.keep(h);
        }
        return emit(x, h);
    }

    @Override
    long[] shapes(ShapeSink s, long[] x, List<long[]> skips, long[] upsampleSize) {
        long[] h = x;
        for (int j = 0; j < resnets.size(); j++) {
            long[] skip = skips.get(skips.size() - 1 - j);
            h = s.resnet(resnets.get(j), ShapeSink.map(h[0], h[1] + skip[1], h[2], h[3]), out);
            h = attentions.get(j).shapes(s, h);
        }
        if (upsampler != null) {
            h = ShapeSink.map(h[0], h[1], upsampleSize[0], upsampleSize[1]);
            s.put(upsampler.path() + ".conv", h);
            s.put(upsampler, h);
        }
        return s.put(this, h);
    }
}
