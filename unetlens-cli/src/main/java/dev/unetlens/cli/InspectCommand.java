package dev.unetlens.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.ldm.InferOptions;
import dev.unetlens.io.ldm.LdmComponent;
import dev.unetlens.io.ldm.SingleFileCheckpoint;
import dev.unetlens.hook.BlockNames;
import dev.unetlens.hook.Selector;
import dev.unetlens.model.TorchRuntime;
import dev.unetlens.model.Weights;
import dev.unetlens.model.unet.HookShape;
import dev.unetlens.model.unet.UNet2DConditionModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code unetlens inspect}: every U-Net hook point (diffusers name, WebUI name, class, output shape) for an image
 * size, from the config alone — no weights are loaded.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        header = "List every extractable U-Net position with its WebUI name and shape.",
        description = {"List every extractable U-Net position: diffusers module path, WebUI block name, class and",
            "output shape for an image of the given size. Reads only the config; loads no weights."})
public final class InspectCommand implements Callable<Integer> {
    /** {@code --blocks} without a value. */
    private static final String ALL_BLOCKS = "all";

    @Mixin
    ModelOptions model;

    @Option(names = "--height", paramLabel = "H", description = "Image height in pixels, a multiple of 8 (default: the model's).")
    Integer height;

    @Option(names = "--width", paramLabel = "W", description = "Image width in pixels, a multiple of 8 (default: the model's).")
    Integer width;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1", description = "Batch rows (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--blocks", arity = "0..1", paramLabel = "BLOCKS", fallbackValue = ALL_BLOCKS,
            description = "Only WebUI blocks: all of them (IN00 … OUT11) with no value, or those named, like sweep's"
                    + " --blocks: IN04,M00 or IN00-OUT11(+2).")
    String blocks;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        model.refuseLoras("inspect", "reads only the config, whose shapes no LoRA changes; leave --lora out");
        UNetConfig config = unetConfig(model.path());
        int f = 8;
        int h = pixels("--height", height, config, 0, f);
        int w = pixels("--width", width, config, 1, f);
        if (batch < 1) {
            throw new UnetlensException("--batch must be ≥ 1, got " + batch);
        }
        List<HookShape> shapes;
        try (NDManager m = TorchRuntime.newBaseManager()) {
            UNet2DConditionModel unet = new UNet2DConditionModel(Weights.placeholders(m, "unet"), config);
            shapes = unet.shapes(batch, h / f, w / f);
        }
        BlockNames names = BlockNames.of(config);
        if (blocks != null) {
            Set<String> keep = new HashSet<>(blocks.equals(ALL_BLOCKS) ? names.names() : Selector.blocks(blocks, names));
            shapes = shapes.stream().filter(s -> names.blockName(s.name()).filter(keep::contains).isPresent()).toList();
        }
        if (json) {
            printJson(shapes, names, h, w);
        } else {
            printTable(shapes, names, h, w);
        }
        return 0;
    }

    private void printTable(List<HookShape> shapes, BlockNames names, int h, int w) {
        System.out.printf("U-Net hook points for %d×%d px (latent %d×%d), batch %d%n", h, w, h / 8, w / 8, batch);
        int width = shapes.stream().mapToInt(s -> s.name().length()).max().orElse(10);
        System.out.printf("%-" + width + "s  %-5s  %-26s  %s%n", "module", "block", "class", "output shape");
        for (HookShape s : shapes) {
            if (s.name().isEmpty()) {
                continue;
            }
            String block = names.blockName(s.name()).orElse("");
            System.out.printf("%-" + width + "s  %-5s  %-26s  %s%n", s.name(), block, s.className(), s.shape());
        }
    }

    private void printJson(List<HookShape> shapes, BlockNames names, int h, int w) throws Exception {
        ObjectMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        ObjectNode root = json.createObjectNode();
        root.put("height", h);
        root.put("width", w);
        root.put("batch", batch);
        ArrayNode points = root.putArray("points");
        for (HookShape s : shapes) {
            String block = names.blockName(s.name()).orElse(null);
            if (s.name().isEmpty()) {
                continue;
            }
            ObjectNode p = points.addObject();
            p.put("module", s.name());
            p.put("block", block);
            p.put("class", s.className());
            ArrayNode shape = p.putArray("shape");
            for (long d : s.shape().getShape()) {
                shape.add(d);
            }
        }
        System.out.println(json.writeValueAsString(root));
    }

    private static int pixels(String option, Integer given, UNetConfig c, int axis, int f) {
        int v = given != null ? given : c.sampleSize().isEmpty() ? 512 : c.sampleSize().get(Math.min(axis, c.sampleSize().size() - 1)) * f;
        if (v <= 0 || v % 8 != 0) {
            throw new UnetlensException(option + " must be a positive multiple of 8, got " + v);
        }
        return v;
    }

    /** The U-Net config of a folder, or inferred from a single file's header (or taken from --config). */
    private UNetConfig unetConfig(Path path) {
        if (Files.isRegularFile(path)) {
            if (model.configs != null) {
                return UNetConfig.read(DiffusersFolder.open(model.configs).config("unet"));
            }
            try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(path)) {
                return UNetConfig.from(ckpt.inferConfigs(new InferOptions(model.predictionType, null, null)).json(LdmComponent.UNET));
            }
        }
        return UNetConfig.read(DiffusersFolder.open(path).config("unet"));
    }
}
