package dev.unetlens.model.vae;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.Module;
import dev.unetlens.model.ResnetBlock2D;
import dev.unetlens.model.Upsample2D;
import dev.unetlens.model.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers {@code UpDecoderBlock2D}: resnets, then (except in the last level) nearest ×2 + conv.
 * x [B, Cin, H, W] → [B, Cout, 2H, 2W]; hook: this path.
 */
public final class UpDecoderBlock2D extends Module {
    private final List<ResnetBlock2D> resnets = new ArrayList<>();
    private final Upsample2D upsampler;   // upsamplers.0, null in the last level

    public UpDecoderBlock2D(Weights w, String path, long in, long out, int layers, int groups, boolean upsample) {
        super(path);
        for (int j = 0; j < layers; j++) {
            ResnetBlock2D.Spec spec = new ResnetBlock2D.Spec(j == 0 ? in : out, out, 0, groups, AutoencoderKL.EPS, 1.0);
            resnets.add(add(new ResnetBlock2D(w, sub("resnets." + j), spec)));
        }
        upsampler = upsample ? add(new Upsample2D(w, sub("upsamplers.0"), out)) : null;
    }

    public NDArray forward(NDArray x) {
        NDArray h;
        try (ForwardScope scope = ForwardScope.consuming(x)) {                 // frees each map once read
            h = x;
            for (ResnetBlock2D resnet : resnets) {
                h = resnet.forward(h, null);
            }
            if (upsampler != null) {
                h = upsampler.forward(h);
            }
            h = scope.keep(h);
        }
        return emit(x, h);
    }
}
