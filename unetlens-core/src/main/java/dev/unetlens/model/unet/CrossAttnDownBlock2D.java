package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.Downsample2D;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.ResnetBlock2D;
import dev.unetlens.model.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers unet_2d_blocks.py {@code CrossAttnDownBlock2D}: (resnet → Transformer2DModel) × layers, a skip after
 * each, then (except in the last level) a stride-2 downsampler whose output is the last skip.
 * h [B, Cin, H, W], temb [B, Ct], context [B, S, Dc] → hidden [B, Cout, H', W'] and skips; hook points: see
 * {@link DownBlock}.
 */
public final class CrossAttnDownBlock2D extends DownBlock {
    private final List<ResnetBlock2D> resnets = new ArrayList<>();
    private final List<Transformer2DModel> attentions = new ArrayList<>();
    private final Downsample2D downsampler;   // downsamplers.0, null in the last block
    private final int downsamplePadding;
    private final long out;

    public CrossAttnDownBlock2D(Weights w, String path, BlockArgs a) {
        super(path, a);
        for (int j = 0; j < a.layers(); j++) {
            long in = j == 0 ? a.in() : a.out();
            resnets.add(add(new ResnetBlock2D(w, sub("resnets." + j), a.resnet(in, a.out()))));
            attentions.add(add(new Transformer2DModel(w, sub("attentions." + j), a.out(), a.transformerLayers().get(j), a)));
        }
        downsampler = a.resample() ? add(new Downsample2D(w, sub("downsamplers.0"), a.out(), a.downsamplePadding())) : null;
        downsamplePadding = a.downsamplePadding();
        out = a.out();
    }

    @Override
    public DownOutput forward(NDArray x, NDArray temb, NDArray context) {
        NDArray h = x;
        List<NDArray> skips = new ArrayList<>();
        try (ForwardScope scope = new ForwardScope()) {
            for (int j = 0; j < resnets.size(); j++) {
                h = resnets.get(j).forward(h, temb);                             // [B, Cout, H, W]
                h = attentions.get(j).forward(h, context);                       // [B, Cout, H, W]
                if (j < resnets.size() - 1 || downsampler != null) {
                    skips.add(scope.keep(h));
                }
            }
            h = scope.keep(downsampler == null ? h : downsampler.forward(h));    // [B, Cout, ⌈H/2⌉, ⌈W/2⌉]
        }
        return finish(x, h, skips);
    }

    @Override
    List<long[]> shapes(ShapeSink s, long[] x) {
        long[] h = x;
        List<long[]> skips = new ArrayList<>();
        for (int j = 0; j < resnets.size(); j++) {
            h = s.resnet(resnets.get(j), h, out);
            h = attentions.get(j).shapes(s, h);
            if (j < resnets.size() - 1 || downsampler != null) {
                skips.add(h);
            }
        }
        if (downsampler != null) {
            long[] d = downsampled(h, downsamplePadding);
            s.put(downsampler.path() + ".conv", d);
            h = s.put(downsampler, d);
        }
        return finishShapes(s, h, skips);
    }
}
