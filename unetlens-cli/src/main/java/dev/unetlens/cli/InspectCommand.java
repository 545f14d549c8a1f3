package dev.unetlens.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.ClipTextConfig;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.hook.Component;
import dev.unetlens.hook.ModulePath;
import dev.unetlens.model.clip.ClipTextModel;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.tokenizer.TokenizerConfig;
import ai.djl.ndarray.types.Shape;
import java.util.stream.Stream;
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
 * {@code unetlens inspect}: every hook point of a component (diffusers name, WebUI name for the U-Net, class, output
 * shape) for an image size, from the configs alone — no weights are loaded.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        header = "List every extractable position of a component (U-Net, text encoders, VAE) with its shape.",
        description = {"List every extractable position: module name, WebUI block name (U-Net) or stage (text encoders,",
            "VAE), class and output shape for an image of the given size. Reads only the configs; loads no weights.",
            "Names outside the U-Net carry their component: text_encoder:text_model.encoder.layers.3, vae:encoder.mid_block."})
public final class InspectCommand implements Callable<Integer> {
    /** {@code --blocks} without a value. */
    private static final String ALL_BLOCKS = "all";

    @Mixin
    ModelOptions model;

    @Option(names = "--component", paramLabel = "NAME", defaultValue = "unet",
            description = "unet, text_encoder, text_encoder_2 (SDXL) or vae (default: ${DEFAULT-VALUE}).")
    String component;

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

    /** One row of the listing: the point's name as users write it, its WebUI block or stage, class and shape. */
    private record Row(String name, String mark, String className, Shape shape) {
    }

    @Override
    public Integer call() throws Exception {
        model.refuseLoras("inspect", "reads only the config, whose shapes no LoRA changes; leave --lora out");
        Component c = Component.parse(component);
        if (batch < 1) {
            throw new UnetlensException("--batch must be ≥ 1, got " + batch);
        }
        if (blocks != null && c != Component.UNET) {
            throw new UnetlensException("--blocks names the U-Net's WebUI blocks; leave it out with --component " + c);
        }
        UNetConfig unet = UNetConfig.from(config(Component.UNET));
        int f = 8;
        int h = pixels("--height", height, unet, 0, f);
        int w = pixels("--width", width, unet, 1, f);
        String heading;
        List<Row> rows;
        try (NDManager m = TorchRuntime.newBaseManager()) {
            switch (c) {
                case UNET -> {
                    heading = String.format("U-Net hook points for %d×%d px (latent %d×%d), batch %d", h, w, h / f, w / f, batch);
                    rows = unetRows(m, unet, h, w);
                }
                case VAE -> {
                    AutoencoderKL vae = new AutoencoderKL(Weights.placeholders(m, "vae"), VaeConfig.from(config(c)));
                    heading = String.format("VAE hook points for %d×%d px, batch %d: the encoder's encoding such an image,"
                            + " the decoder's decoding its latent (%d×%d)", h, w, batch, h / vae.downscale(), w / vae.downscale());
                    rows = stageRows(c, vae.shapes(batch, h, w), Stream.concat(vae.encoderStages().stream(),
                            vae.decoderStages().stream()).toList());
                }
                default -> {
                    ClipTextConfig text = ClipTextConfig.from(config(c));
                    ClipTextModel encoder = new ClipTextModel(Weights.placeholders(m, c.cliName()), text);
                    int tokens = tokens(c, text);
                    heading = String.format("%s hook points (%s, %d layers, width %d) for %d tokens, batch %d", c,
                            encoder.typeName(), text.layers(), text.hiddenSize(), tokens, batch);
                    rows = stageRows(c, encoder.shapes(batch, tokens), encoder.stages());
                }
            }
        }
        if (json) {
            printJson(c, rows, h, w);
        } else {
            printTable(heading, c == Component.UNET ? "block" : "stage", rows);
        }
        return 0;
    }

    private List<Row> unetRows(NDManager m, UNetConfig config, int h, int w) {
        UNet2DConditionModel unet = new UNet2DConditionModel(Weights.placeholders(m, "unet"), config);
        List<HookShape> shapes = unet.shapes(batch, h / 8, w / 8);
        BlockNames names = BlockNames.of(config);
        if (blocks != null) {
            Set<String> keep = new HashSet<>(blocks.equals(ALL_BLOCKS) ? names.names() : Selector.blocks(blocks, names));
            shapes = shapes.stream().filter(s -> names.blockName(s.name()).filter(keep::contains).isPresent()).toList();
        }
        return shapes.stream().filter(s -> !s.name().isEmpty())
                .map(s -> new Row(s.name(), names.blockName(s.name()).orElse(""), s.className(), s.shape())).toList();
    }

    /** A component's points by qualified name, its stages numbered from 1 in walk order. */
    private static List<Row> stageRows(Component c, List<HookShape> shapes, List<String> stages) {
        return shapes.stream().map(s -> {
            int k = stages.indexOf(s.name());
            return new Row(new ModulePath(c, s.name()).qualified(), k < 0 ? "" : Integer.toString(k + 1), s.className(), s.shape());
        }).toList();
    }

    private static void printTable(String heading, String markColumn, List<Row> rows) {
        System.out.println(heading);
        int width = rows.stream().mapToInt(r -> r.name().length()).max().orElse(10);
        System.out.printf("%-" + width + "s  %-5s  %-26s  %s%n", "module", markColumn, "class", "output shape");
        for (Row r : rows) {
            System.out.printf("%-" + width + "s  %-5s  %-26s  %s%n", r.name(), r.mark(), r.className(), r.shape());
        }
    }

    private void printJson(Component c, List<Row> rows, int h, int w) throws Exception {
        ObjectMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        ObjectNode root = json.createObjectNode();
        root.put("component", c.cliName());
        root.put("height", h);
        root.put("width", w);
        root.put("batch", batch);
        ArrayNode points = root.putArray("points");
        for (Row r : rows) {
            ObjectNode p = points.addObject();
            p.put("module", r.name());
            if (c == Component.UNET) {
                p.put("block", r.mark().isEmpty() ? null : r.mark());
            } else if (!r.mark().isEmpty()) {
                p.put("stage", Integer.parseInt(r.mark()));
            }
            p.put("class", r.className());
            ArrayNode shape = p.putArray("shape");
            for (long d : r.shape().getShape()) {
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

    /** The text length a component reads: its tokenizer's model_max_length (CLIP's 77 for a single file). */
    private int tokens(Component c, ClipTextConfig text) {
        Path path = model.path();
        String tokenizer = c.cliName().replace("text_encoder", "tokenizer");
        if (Files.isDirectory(path) && DiffusersFolder.open(path).hasComponent(tokenizer)) {
            return TokenizerConfig.read(DiffusersFolder.open(path).component(tokenizer)).modelMaxLength();
        }
        return Math.min(TokenizerConfig.CLIP_MAX_LENGTH, text.maxPositions());
    }

    /** A component's config from a folder, or inferred from a single file's header (or taken from --config). */
    private JsonConfig config(Component c) {
        Path path = model.path();
        if (Files.isRegularFile(path)) {
            if (model.configs != null) {
                return JsonConfig.read(DiffusersFolder.open(model.configs).config(c.cliName()));
            }
            try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(path)) {
                return ckpt.inferConfigs(new InferOptions(model.predictionType, null, null)).json(LdmComponent.valueOf(c.name()));
            }
        }
        return JsonConfig.read(DiffusersFolder.open(path).config(c.cliName()));
    }
}
