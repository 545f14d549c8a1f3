package dev.unetlens.model.vae;

import ai.djl.ndarray.NDArray;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.model.Activations;
import dev.unetlens.model.Conv2d;
import dev.unetlens.model.GroupNorm;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers models/autoencoders/vae.py {@code Encoder}: conv_in → down blocks (each halving H and W but the
 * last) → mid block → GroupNorm → SiLU → conv_out to 2·L channels (mean and log-variance).
 * x [B, 3, H, W] → [B, 2L, H/f, W/f] with f = 2^(levels−1); hook: this path.
 */
public final class Encoder extends Module {
    private final Conv2d convIn;
    private final List<DownEncoderBlock2D> downBlocks = new ArrayList<>();
    private final UNetMidBlock2D midBlock;
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    public Encoder(Weights w, String path, VaeConfig c) {
        super(path);
        List<Integer> ch = c.blockOutChannels();
        convIn = add(new Conv2d(w, sub("conv_in"), c.inChannels(), ch.getFirst(), 3, 1, 1));
        for (int i = 0; i < ch.size(); i++) {
            long in = ch.get(Math.max(0, i - 1));
            downBlocks.add(add(new DownEncoderBlock2D(w, sub("down_blocks." + i), in, ch.get(i),
                    c.layersPerBlock(), c.normGroups(), i < ch.size() - 1)));
        }
        midBlock = add(new UNetMidBlock2D(w, sub("mid_block"), ch.getLast(), c.normGroups(), c.midBlockAttention()));
        convNormOut = add(new GroupNorm(w, sub("conv_norm_out"), c.normGroups(), ch.getLast(), AutoencoderKL.EPS));
        convOut = add(new Conv2d(w, sub("conv_out"), ch.getLast(), 2L * c.latentChannels(), 3, 1, 1));
    }

    public NDArray forward(NDArray x) {
        NDArray h;
        try (ForwardScope scope = ForwardScope.consuming(x)) {                 // frees each map once read
            h = convIn.forward(x);                                             // [B, C0, H, W]
            for (DownEncoderBlock2D block : downBlocks) {
                h = block.forward(h);
            }
            h = midBlock.forward(h);                                           // [B, Clast, H/f, W/f]
            h = convNormOut.forward(h);
            h = Activations.siluOverwrite(h);                                  // conv_act
            h = scope.keep(convOut.forward(h));                                // [B, 2L, H/f, W/f]
        }
        return emit(x, h);
    }
}
