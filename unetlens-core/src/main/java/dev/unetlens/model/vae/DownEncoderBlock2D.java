package dev.unetlens.model.vae;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.Downsample2D;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.Module;
import dev.unetlens.model.ResnetBlock2D;
import dev.unetlens.model.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers {@code DownEncoderBlock2D}: resnets, then (except in the last level) a stride-2 downsampler with
 * asymmetric padding. x [B, Cin, H, W] → [B, Cout, H/2, W/2]; hook: this path.
 */
public final class DownEncoderBlock2D extends Module {
    private final List<ResnetBlock2D> resnets = new ArrayList<>();
    private final Downsample2D downsampler;   // downsamplers.0, null in the last level

    public DownEncoderBlock2D(Weights w, String path, long in, long out, int layers, int groups, boolean downsample) {
        super(path);
        for (int j = 0; j < layers; j++) {
            ResnetBlock2D.Spec spec = new ResnetBlock2D.Spec(j == 0 ? in : out, out, 0, groups, AutoencoderKL.EPS, 1.0);
            resnets.add(add(new ResnetBlock2D(w, sub("resnets." + j), spec)));
        }
        downsampler = downsample ? add(new Downsample2D(w, sub("downsamplers.0"), out, 0)) : null;
    }

    public NDArray forward(NDArray x) {
        NDArray h;
        try (ForwardScope scope = ForwardScope.consuming(x)) {                 // frees each map once read
            h = x;
            for (ResnetBlock2D resnet : resnets) {
                h = resnet.forward(h, null);
            }
            if (downsampler != null) {
                h = downsampler.forward(h);
            }
            h = scope.keep(h);
        }
        return emit(x, h);
    }
}
