package dev.unetlens.model.vae;

import ai.djl.ndarray.NDArray;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.model.Activations;
import dev.unetlens.model.Conv2d;
import dev.unetlens.model.GroupNorm;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.Module;
import dev.unetlens.model.TorchRuntime;
import dev.unetlens.model.Weights;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers models/autoencoders/vae.py {@code Decoder}: conv_in → mid block → up blocks over the reversed
 * channels (each doubling H and W but the last) → GroupNorm → SiLU → conv_out.
 * z [B, L, h, w] → [B, 3, h·f, w·f]; hook: this path.
 */
public final class Decoder extends Module {
    private final Conv2d convIn;
    private final UNetMidBlock2D midBlock;
    private final List<UpDecoderBlock2D> upBlocks = new ArrayList<>();
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    public Decoder(Weights w, String path, VaeConfig c) {
        super(path);
        List<Integer> rev = c.blockOutChannels().reversed();
        convIn = add(new Conv2d(w, sub("conv_in"), c.latentChannels(), rev.getFirst(), 3, 1, 1));
        midBlock = add(new UNetMidBlock2D(w, sub("mid_block"), rev.getFirst(), c.normGroups(), c.midBlockAttention()));
        for (int i = 0; i < rev.size(); i++) {
            long in = rev.get(Math.max(0, i - 1));
            upBlocks.add(add(new UpDecoderBlock2D(w, sub("up_blocks." + i), in, rev.get(i),
                    c.layersPerBlock() + 1, c.normGroups(), i < rev.size() - 1)));
        }
        convNormOut = add(new GroupNorm(w, sub("conv_norm_out"), c.normGroups(), rev.getLast(), AutoencoderKL.EPS));
        convOut = add(new Conv2d(w, sub("conv_out"), rev.getLast(), c.outChannels(), 3, 1, 1));
    }

    public NDArray forward(NDArray z) {
        NDArray h;
        try (ForwardScope scope = ForwardScope.consuming(z)) {                 // frees each map once read
            h = convIn.forward(z);
            h = midBlock.forward(h);                                           // [B, Clast, h, w]
            for (UpDecoderBlock2D block : upBlocks) {
                h = block.forward(TorchRuntime.trimHeapBefore(h));             // the 256² and 512² blocks' maps
            }
            h = convNormOut.forward(h);
            h = Activations.siluOverwrite(h);                                  // conv_act
            h = scope.keep(convOut.forward(h));                                // [B, 3, h·f, w·f]
        }
        return emit(z, h);
    }
}
