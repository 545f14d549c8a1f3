package dev.unetlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import dev.unetlens.viz.colorize.Clamping;
import dev.unetlens.viz.colorize.Colorizer;
import dev.unetlens.viz.grid.FeatureGrid;
import dev.unetlens.viz.grid.GridOptions;
import dev.unetlens.viz.grid.Reduction;
import dev.unetlens.viz.grid.ReducedMap;
import dev.unetlens.viz.grid.StepStrip;
import dev.unetlens.viz.grid.StripRow;
import dev.unetlens.viz.text.TokenNorms;
import dev.unetlens.viz.text.TokenSimilarity;
import dev.unetlens.viz.text.TokenStates;
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
            description = "Which row of each tensor to draw: the image of a generation's batch, or the noise sample of an"
                    + " --images dump, from 0 (default: ${DEFAULT-VALUE}).")
    int row;

    @Option(names = "--channels", paramLabel = "A-B", description = "Channels for the grids, e.g. 0-63 (default: all, paged).")
    String channels;

    @Option(names = "--reduce", paramLabel = "R", defaultValue = "l2",
            description = "Channel reduction for the maps and step strips: mean, l1 (mean |v|) or l2 (RMS) (default:"
                    + " ${DEFAULT-VALUE}).")
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

        long rows() {
            return array.shape()[0];
        }
    }

    /**
     * Which input a picture shows, where a dump has several: the image (its pictures go into a folder of its name)
     * and noise sample of an --images dump, the batch row of a generation's.
     *
     * @param folder "cat/" or ""
     * @param suffix "-sample-2", "-row-1" or ""
     * @param text   "image cat · noise sample 2 of 8" or ""
     */
    private record Source(String folder, String suffix, String text) {
    }

    @Override
    public Integer call() throws IOException {
        Path manifestFile = dump.resolve(OutputDirectory.MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw new UnetlensException(dump + " has no manifest.json; give a directory written by 'unetlens extract'");
        }
        JsonNode manifest = JSON.readTree(manifestFile.toFile());
        Colorizer colorizer = colors.colorizer();
        Reduction reduction = reduction();
        Colorizer reducedColors = colors.reducedColorizer(reduction);
        List<Integer> chosen = channels == null ? List.of() : range(channels);
        List<Item> items = read(manifest);
        for (Item it : items) {
            checkRow(it);
            checkChannels(it, chosen);
        }
        OutputDirectory out = output.open("viz");
        out.manifest().put("dump", dump.toAbsolutePath().toString());
        ConsoleProgress progress = ConsoleProgress.forStderr();
        progress.start("drawing", items.size());
        Map<String, List<FeatureFrame>> strips = new LinkedHashMap<>();
        ClampReport clamps = new ClampReport(colorizer);
        int done = 0;
        for (Item it : items) {
            Source src = source(it);
            String stem = src.folder() + stem(it) + src.suffix();
            MapLabel label = new MapLabel(it.module(), it.step(), it.info().path("timestep").asDouble(Double.NaN), src.text());
            if (it.module().endsWith(":probs")) {
                attention(out, it, stem, label, manifest);
            } else if (isText(it)) {
                text(out, it, stem);
            } else if (it.array().shape().length == 4) {
                FeatureMap map = FeatureMap.of(it.array(), row);
                List<Picture> pages = FeatureGrid.render(map, label, new GridOptions(colorizer, chosen, colors.scope(),
                        GridOptions.DEFAULT_MAX_PAGE_SIDE));
                Clamping clamping = Clamping.of(colorizer.transform(), chosenValues(map, chosen));
                clamps.add(label, clamping);
                for (int i = 0; i < pages.size(); i++) {
                    ObjectNode e = pages.get(i).write(out, stem + "-grid" + (pages.size() > 1 ? "-page-" + (i + 1) : "") + ".png");
                    if (clamping.fraction() > 0) {
                        e.put("clamped_fraction", clamping.fraction());
                        out.saveManifest();
                    }
                }
                ReducedMap.render(map, label, reduction, reducedColors).write(out, stem + "-" + reduction.cliName() + ".png");
                if (it.step() > 0) {
                    strips.computeIfAbsent(src.folder() + it.module() + "|" + it.info().path("cfg_branch").asText() + "|"
                            + src.suffix(), k -> new ArrayList<>()).add(new FeatureFrame(label, map));
                }
            }
            progress.advance(++done, stem);
        }
        progress.finish();
        for (Map.Entry<String, List<FeatureFrame>> e : strips.entrySet()) {
            if (e.getValue().size() > 1) {
                String[] key = e.getKey().split("\\|", -1);
                String name = key[0].replace(':', '-') + (key[1].equals("unconditional") ? "-uncond" : "") + key[2]
                        + "-steps.png";
                StepStrip.render(e.getValue(), List.of(new StripRow.Reduced(reduction)), reducedColors, colors.scope())
                        .write(out, name);
            }
        }
        clamps.warn();
        out.finish();
        System.out.println("wrote " + out.dir());
        return 0;
    }

    private void checkRow(Item it) {
        if (row < 0 || row >= it.rows()) {
            throw new UnetlensException("--row " + row + " is outside the " + it.rows() + " rows of " + it.module()
                    + " (rows 0–" + (it.rows() - 1) + ")");
        }
    }

    private void checkChannels(Item it, List<Integer> chosen) {
        long[] s = it.array().shape();
        if (chosen.isEmpty() || s.length != 4 || it.module().endsWith(":probs")) {
            return;
        }
        int last = chosen.stream().max(Integer::compare).orElseThrow();
        if (last >= s[1]) {
            throw new UnetlensException("--channels " + channels + ": " + it.module() + " has " + s[1] + " channels (0–"
                    + (s[1] - 1) + ")");
        }
    }

    private Reduction reduction() {
        try {
            return Reduction.parse(reduce);
        } catch (IllegalArgumentException e) {
            throw new UnetlensException("--reduce: " + e.getMessage());
        }
    }

    /** The values the grid draws: the chosen channels, or all. */
    private static float[] chosenValues(FeatureMap map, List<Integer> chosen) {
        if (chosen.isEmpty()) {
            return map.values();
        }
        int hw = map.height() * map.width();
        float[] out = new float[chosen.size() * hw];
        for (int i = 0; i < chosen.size(); i++) {
            System.arraycopy(map.values(), chosen.get(i) * hw, out, i * hw, hw);
        }
        return out;
    }

    /** Which input the tensor's row {@link #row} is: see {@link Source}. */
    private Source source(Item it) {
        JsonNode info = it.info();
        long rows = it.rows();
        if (info.has("image")) {
            String image = info.get("image").asText();
            return new Source(image + "/", rows > 1 ? "-sample-" + row : "",
                    "image " + image + (rows > 1 ? " · noise sample " + row + " (0–" + (rows - 1) + ")" : ""));
        }
        if (rows > 1) {
            JsonNode prompt = info.path("prompt_index").path(row);
            return new Source("", "-row-" + row, "batch row " + row + " (0–" + (rows - 1) + ")"
                    + (prompt.isMissingNode() ? "" : " · prompt " + (prompt.asInt() + 1)));
        }
        return new Source("", "", "");
    }

    /** A text encoder's states [B, T, D]. */
    private static boolean isText(Item it) {
        return it.info().path("component").asText().startsWith("text_encoder") && it.array().shape().length == 3;
    }

    /** A text encoder's states of row {@link #row}: each token's norm, and the tokens' cosine similarity. */
    private void text(OutputDirectory out, Item it, String stem) {
        long[] s = it.array().shape();
        int t = (int) s[1];
        int d = (int) s[2];
        float[] all = it.array().toFloats();
        float[] values = java.util.Arrays.copyOfRange(all, row * t * d, (row + 1) * t * d);
        JsonNode text = it.info().path("texts").path(row);
        List<String> read = text.isTextual() ? ClipTokenizer.bundled("<|endoftext|>").encode(text.asText()).tokenTexts()
                : List.of();
        List<String> labels = java.util.stream.IntStream.range(0, t)               // a text as long as the states
                .mapToObj(i -> i < read.size() ? read.get(i) : "t" + i).toList();
        String state = it.module().substring(it.module().indexOf(':') + 1);
        String encoder = it.info().path("component").asText();
        TokenStates states = new TokenStates(labels, List.of(state), new float[][] {values}, d);
        String context = (text.isTextual() ? "\"" + text.asText() + "\"" : "") + ("unconditional".equals(it.info()
                .path("cfg_branch").asText()) ? " (negative prompt)" : "");
        List<Integer> shown = states.promptIndices();
        TokenNorms.bars(states, 0, shown, it.module()).write(out, stem + "-token-norms");
        TokenSimilarity.render(states, 0, shown, encoder, context).write(out, stem + "-token-similarity.png");
    }

    private void attention(OutputDirectory out, Item it, String stem, MapLabel label, JsonNode manifest) {
        long[] s = it.array().shape();
        JsonNode latent = it.info().get("latent");
        if (latent == null || s.length != 4) {
            return;
        }
        int[] hw = AttentionProbs.blockSize((int) s[2], latent.get(0).asInt(), latent.get(1).asInt());
        AttentionProbs probs = AttentionProbs.of(it.array(), hw[0], hw[1]);
        List<String> labels = tokenLabels(manifest, (int) s[3]);
        CrossAttentionGrid.Options o = CrossAttentionGrid.Options.defaults(probs);
        o = new CrossAttentionGrid.Options(row, o.heads(), o.tokens(), o.colorizer(), o.scope(), o.maxPageSide());
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

    /** 0-based channels and ranges, {@code 0-31,64}, as a list; one line naming --channels otherwise. */
    static List<Integer> range(String text) {
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
