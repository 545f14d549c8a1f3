package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.tokenizer.ClipTokenizer;
import dev.unetlens.viz.FeatureFrame;
import dev.unetlens.viz.FeatureMap;
import dev.unetlens.viz.MapLabel;
import dev.unetlens.viz.Picture;
import dev.unetlens.viz.attention.AttentionProbs;
import dev.unetlens.viz.attention.CrossAttentionGrid;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.grid.FeatureGrid;
import dev.unetlens.viz.grid.GridOptions;
import dev.unetlens.viz.grid.Reduction;
import dev.unetlens.viz.grid.ReducedMap;
import dev.unetlens.viz.grid.StepStrip;
import dev.unetlens.viz.grid.StripRow;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code unetlens viz}: pictures of a dump directory that {@code extract} wrote — a channel grid and a reduced
 * map per tensor, step strips per module over the steps a generation dump holds, and heads × tokens grids for
 * cross-attention probabilities.
 */
@Command(name = "viz", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Draw an 'extract' dump: channel grids, reduced maps, step strips, attention.",
        description = {"Draw the tensors of an 'extract' dump: channel grids (Dump U-Net's colorizations or viridis),",
            "channel-reduced maps, step strips, and heads × tokens grids of cross-attention probabilities."})
public final class VizCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--dump", paramLabel = "DIR", required = true, description = "A directory written by 'unetlens extract'.")
    Path dump;

    @Option(names = "--row", paramLabel = "N", defaultValue = "0",
            description = "Which row of each tensor (image of the batch, or noise sample) to draw (default: ${DEFAULT-VALUE}).")
    int row;

    @Option(names = "--channels", paramLabel = "A-B", description = "Channels for the grids, e.g. 0-63 (default: all, paged).")
    String channels;

    @Option(names = "--reduce", paramLabel = "R", defaultValue = "l2",
            description = "Channel reduction for maps and strips: sum, l1 or l2 (default: ${DEFAULT-VALUE}).")
    String reduce;

    @ArgGroup(validate = false, heading = "%nColours%n", exclusive = false)
    ColorOptions colors = new ColorOptions();

    @ArgGroup(validate = false, heading = "%nOutput%n", exclusive = false)
    OutputOptions output = new OutputOptions();

    /** One tensor of the dump. */
    private record Item(JsonNode info, NpyArray array) {
        String module() {
            return info.get("module").asText();
        }

        int step() {
            return info.path("step").asInt(-1);
        }
    }

    @Override
    public Integer call() throws IOException {
        Path manifestFile = dump.resolve(OutputDirectory.MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw new UnetlensException(dump + " has no manifest.json; give a directory written by 'unetlens extract'");
        }
        JsonNode manifest = JSON.readTree(manifestFile.toFile());
        Colorizer colorizer = colors.colorizer();
        Reduction reduction = Reduction.parse(reduce);
        List<Integer> chosen = channels == null ? List.of() : range(channels);
        OutputDirectory out = output.open("viz");
        out.manifest().put("dump", dump.toAbsolutePath().toString());
        List<Item> items = read(manifest);
        ConsoleProgress progress = ConsoleProgress.forStderr();
        progress.start("drawing", items.size());
        Map<String, List<FeatureFrame>> strips = new LinkedHashMap<>();
        int done = 0;
        for (Item it : items) {
            String stem = stem(it);
            if (it.module().endsWith(":probs")) {
                attention(out, it, stem, manifest);
            } else if (it.array().shape().length == 4) {
                FeatureMap map = FeatureMap.of(it.array(), checkRow(it));
                MapLabel label = new MapLabel(it.module(), it.step(), it.info().path("timestep").asDouble(Double.NaN));
                List<Picture> pages = FeatureGrid.render(map, label, new GridOptions(colorizer, chosen, colors.scope(),
                        GridOptions.DEFAULT_MAX_PAGE_SIDE));
                for (int i = 0; i < pages.size(); i++) {
                    pages.get(i).write(out, stem + "-grid" + (pages.size() > 1 ? "-page-" + (i + 1) : "") + ".png");
                }
                ReducedMap.render(map, label, reduction, colorizer).write(out, stem + "-" + reduction.cliName() + ".png");
                if (it.step() > 0) {
                    strips.computeIfAbsent(it.module() + "|" + it.info().path("cfg_branch").asText(), k -> new ArrayList<>())
                            .add(new FeatureFrame(label, map));
                }
            }
            progress.advance(++done, stem);
        }
        progress.finish();
        for (Map.Entry<String, List<FeatureFrame>> e : strips.entrySet()) {
            if (e.getValue().size() > 1) {
                String[] key = e.getKey().split("\\|");
                String name = key[0].replace(':', '-') + (key[1].equals("unconditional") ? "-uncond" : "") + "-steps.png";
                StepStrip.render(e.getValue(), List.of(new StripRow.Reduced(reduction)), colorizer, colors.scope())
                        .write(out, name);
            }
        }
        out.finish();
        System.out.println("wrote " + out.dir());
        return 0;
    }

    private int checkRow(Item it) {
        long rows = it.array().shape()[0];
        if (row < 0 || row >= rows) {
            throw new UnetlensException("--row " + row + " is outside the " + rows + " rows of " + it.module());
        }
        return row;
    }

    private void attention(OutputDirectory out, Item it, String stem, JsonNode manifest) {
        long[] s = it.array().shape();
        JsonNode latent = it.info().get("latent");
        if (latent == null || s.length != 4) {
            return;
        }
        int[] hw = AttentionProbs.blockSize((int) s[2], latent.get(0).asInt(), latent.get(1).asInt());
        AttentionProbs probs = AttentionProbs.of(it.array(), hw[0], hw[1]);
        List<String> labels = tokenLabels(manifest, (int) s[3]);
        MapLabel label = new MapLabel(it.module(), it.step(), it.info().path("timestep").asDouble(Double.NaN));
        CrossAttentionGrid.Options o = CrossAttentionGrid.Options.defaults(probs);
        o = new CrossAttentionGrid.Options(checkRow(it), o.heads(), o.tokens(), o.colorizer(), o.scope(), o.maxPageSide());
        List<Picture> pages = CrossAttentionGrid.render(probs, label, labels, o);
        for (int i = 0; i < pages.size(); i++) {
            pages.get(i).write(out, stem + (pages.size() > 1 ? "-page-" + (i + 1) : "") + ".png");
        }
    }

    /** Token labels of the dump's (first) prompt; the CLIP vocabulary is the same for every SD model. */
    private static List<String> tokenLabels(JsonNode manifest, int keys) {
        JsonNode prompts = manifest.path("request").path("prompts");
        String prompt = prompts.isArray() && !prompts.isEmpty() ? prompts.get(0).asText()
                : manifest.path("request").path("prompt").asText("");
        List<String> labels = ClipTokenizer.bundled("<|endoftext|>").encode(prompt).tokenTexts();
        return labels.size() >= keys ? labels.subList(0, keys) : labels;
    }

    private static String stem(Item it) {
        String name = it.info().get("entry").asText();
        return name.replace(':', '-').replace('/', '_');
    }

    private List<Item> read(JsonNode manifest) throws IOException {
        List<Item> items = new ArrayList<>();
        for (JsonNode f : manifest.path("files")) {
            if (!f.has("tensors")) {
                continue;
            }
            Path file = dump.resolve(f.get("file").asText());
            String name = file.getFileName().toString();
            if (name.endsWith(".npy")) {
                items.add(new Item(f.get("tensors").get(0), Npy.read(file)));
            } else if (name.endsWith(".npz")) {
                Map<String, NpyArray> z = Npy.readNpz(file);
                for (JsonNode t : f.get("tensors")) {
                    items.add(new Item(t, z.get(t.get("entry").asText())));
                }
            } else if (name.endsWith(".safetensors")) {
                try (SafetensorsFile s = SafetensorsFile.open(file)) {
                    for (JsonNode t : f.get("tensors")) {
                        String entry = t.get("entry").asText();
                        var info = s.info(entry).orElseThrow(() -> new UnetlensException(file + ": no tensor " + entry));
                        ByteBuffer b = s.data(entry).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                        ByteBuffer copy = ByteBuffer.allocate(b.remaining()).put(b).flip();
                        items.add(new Item(t, new NpyArray(info.dtype(), info.shape(), copy)));
                    }
                }
            }
        }
        if (items.isEmpty()) {
            throw new UnetlensException(dump + ": the manifest lists no tensors; give a directory written by 'unetlens extract'");
        }
        return items;
    }

    private static List<Integer> range(String text) {
        List<Integer> out = new ArrayList<>();
        for (String part : text.split(",")) {
            String[] ab = part.strip().split("-");
            try {
                int a = Integer.parseInt(ab[0].strip());
                int b = ab.length > 1 ? Integer.parseInt(ab[1].strip()) : a;
                if (a < 0 || b < a || ab.length > 2) {
                    throw new NumberFormatException();
                }
                for (int c = a; c <= b; c++) {
                    out.add(c);
                }
            } catch (NumberFormatException e) {
                throw new UnetlensException("--channels takes channel numbers and ranges like 0-31,64, got '" + text + "'");
            }
        }
        return out;
    }
}
