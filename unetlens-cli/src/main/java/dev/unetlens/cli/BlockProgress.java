package dev.unetlens.cli;

import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.HookScope;
import dev.unetlens.model.HookTable;
import dev.unetlens.pipeline.StableDiffusion;

import java.util.ArrayList;
import java.util.List;

/**
 * Progress inside one U-Net evaluation or VAE decode, for runs whose single step takes long (a 4096² step takes
 * minutes): observer hooks on the WebUI blocks (IN00 … OUT11) and the decoder's stages tell {@link ConsoleProgress}
 * where the work is, which shows it once a step has run for a while. Its hooks live in their own scopes, closed with it.
 */
final class BlockProgress implements AutoCloseable {
    private final List<HookScope> scopes = new ArrayList<>();

    private BlockProgress() {
    }

    static BlockProgress watch(StableDiffusion sd, ConsoleProgress progress) {
        BlockProgress bp = new BlockProgress();
        HookScope unet = HookScope.open(sd.unet().hooks());
        bp.scopes.add(unet);
        BlockNames names = BlockNames.of(sd.unet().config());
        List<String> blocks = names.names();
        for (int i = 0; i < blocks.size(); i++) {
            String detail = "U-Net " + blocks.get(i) + " (" + (i + 1) + " of " + blocks.size() + " blocks)";
            unet.add(names.module(blocks.get(i)).orElseThrow(), HookScope.observe((v, ctx) -> progress.inside(detail)));
        }
        HookScope vae = HookScope.open(sd.vae().hooks());
        bp.scopes.add(vae);
        List<String> stages = sd.vae().hooks().points().stream().map(HookTable.PointInfo::name)
                .filter(n -> n.matches("decoder\\.(mid_block|up_blocks\\.\\d+)")).toList();
        for (int i = 0; i < stages.size(); i++) {
            String detail = "VAE " + stages.get(i) + " (" + (i + 1) + " of " + stages.size() + " stages)";
            vae.add(stages.get(i), HookScope.observe((v, ctx) -> progress.inside(detail)));
        }
        return bp;
    }

    @Override
    public void close() {
        scopes.forEach(HookScope::close);
    }
}
