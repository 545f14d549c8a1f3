package dev.unetlens.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.Messages;
import dev.unetlens.UnetlensException;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.FileHashes;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.TensorSource;
import dev.unetlens.io.WeightFiles;
import dev.unetlens.io.ldm.CheckpointConfigs;
import dev.unetlens.io.ldm.DiffusersToLdm;
import dev.unetlens.io.ldm.EmaWeights;
import dev.unetlens.io.ldm.LdmComponent;
import dev.unetlens.io.ldm.LdmFamily;
import dev.unetlens.io.ldm.SingleFileCheckpoint;
import dev.unetlens.io.pickle.TorchCheckpoint;
import dev.unetlens.pipeline.Progress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code unetlens convert}: a model from one layout and element type into another, written into an
 * {@link OutputDirectory} with a manifest that records every file read (with its SHA-256) and written.
 * <ul>
 *   <li>single file (safetensors, or a PyTorch checkpoint read by the restricted pickle reader) → single
 *       safetensors file: every tensor of the state dict under its stored name, optionally cast, EMA copy kept,
 *       dropped or used as the U-Net; no {@code __metadata__}, so an unchanged file comes out as diffusers'
 *       conversion script writes it;</li>
 *   <li>single file → diffusers folder: each component under its diffusers names (the loader's key maps), the
 *       configs inferred from the weights or taken from {@code --config}, tokenizers and model_index.json;</li>
 *   <li>diffusers folder → single file: the inverse key maps ({@link DiffusersToLdm});</li>
 *   <li>diffusers folder → diffusers folder: the weights cast, every other file copied.</li>
 * </ul>
 * Tensors stream from the memory-mapped source to the output, so memory stays small whatever the model's size; each
 * file is written atomically, then read back and compared with the source bit for bit (a single file written from
 * a folder is also opened as a checkpoint and its components compared with the folder's).
 */
public final class Converter {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private final ConvertRequest request;
    private final OutputDirectory out;
    private final Progress progress;
    private final FileHashes hashes;
    private final ObjectNode source;
    private final ObjectNode conversion;
    private long verified;
    private double hashSeconds;
    private double writeSeconds;
    private double verifySeconds;

    private Converter(ConvertRequest request, OutputDirectory out, Progress progress, FileHashes hashes) {
        this.request = request;
        this.out = out;
        this.progress = progress;
        this.hashes = hashes;
        this.source = out.manifest().putObject("source");
        this.conversion = out.manifest().putObject("conversion");
    }

    /** Runs the conversion; the caller finishes {@code out}. */
    public static void run(ConvertRequest request, OutputDirectory out, Progress progress, FileHashes hashes) {
        Converter c = new Converter(request, out, progress, hashes);
        c.conversion.put("to", request.to().cliName());
        c.conversion.put("dtype", request.dtype() == null ? "kept" : request.dtype().name());
        c.conversion.put("ema", request.ema().name().toLowerCase(java.util.Locale.ROOT));
        long t0 = System.nanoTime();
        if (Files.isDirectory(request.model())) {
            c.fromFolder();
        } else {
            c.fromFile();
        }
        c.out.manifest().put("verified", "every tensor read back and compared bit for bit with its source ("
                + c.verified + " bytes)");
        ObjectNode seconds = c.out.manifest().putObject("seconds");
        seconds.put("hash_sources", c.hashSeconds);
        seconds.put("write", c.writeSeconds);
        seconds.put("verify", c.verifySeconds);
        seconds.put("total", (System.nanoTime() - t0) / 1e9);
        c.out.saveManifest();
    }

    // ---- single file ----

    private void fromFile() {
        Path file = request.model();
        source.put("path", file.toAbsolutePath().toString());
        source.put("kind", "single file");
        source.put("format", WeightFiles.format(file).description());
        record(file);
        if (request.variant() != null) {
            throw new UnetlensException("--variant applies to diffusers folders; " + file + " is a single file");
        }
        if (request.to() == ConvertRequest.Layout.SINGLE_FILE) {
            fileToFile(file);
        } else {
            fileToFolder(file);
        }
    }

    private void fileToFile(Path file) {
        try (TensorSource raw = WeightFiles.open(file)) {
            describe(raw);
            int ema = EmaWeights.count(raw);
            conversion.put("ema_tensors_in_source", ema);
            if (request.ema() == ConvertRequest.Ema.USE && ema == 0) {
                throw new UnetlensException(file + ": the file has no EMA weights (" + EmaWeights.PREFIX
                        + "diffusion_model*) to use");
            }
            TensorSource view = switch (request.ema()) {
                case KEEP -> raw;
                case DROP -> EmaWeights.drop(raw);
                case USE -> EmaWeights.use(raw);
            };
            List<WeightItems.Item> items = new ArrayList<>();
            for (String name : view.names()) {
                items.add(WeightItems.cast(view, name, name, request.dtype()));
            }
            String name = request.name() != null ? request.name() : stem(file) + ".safetensors";
            writeChecked(name, items, null, "the checkpoint's tensors, LDM naming");
        }
    }

    private void fileToFolder(Path file) {
        if (request.ema() == ConvertRequest.Ema.KEEP) {
            conversion.put("ema_note", "a diffusers folder holds no EMA copy: the trained U-Net weights are written");
        }
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(file, request.ema() == ConvertRequest.Ema.USE)) {
            describe(ckpt.file());
            ckpt.notes().forEach(source.withArray("notes")::add);
            if (!ckpt.unrecognized().isEmpty()) {
                throw new UnetlensException(file + ": " + ckpt.unrecognized().size() + " tensors fit no component"
                        + " (" + Messages.quote(ckpt.unrecognized().getFirst()) + ", …); a diffusers folder cannot"
                        + " hold them (convert to a single file keeps every tensor)");
            }
            conversion.put("family", ckpt.family().label());
            conversion.put("ignored_tensors", ckpt.ignored().size());
            CheckpointConfigs configs = request.configs() != null
                    ? CheckpointConfigs.read(DiffusersFolder.open(request.configs()))
                    : ckpt.inferConfigs(request.infer());
            conversion.put("configs_from", configs.source());
            configs.notes().forEach(conversion.withArray("config_notes")::add);
            if (configs.scheduler() == null) {
                throw new UnetlensException(configs.source() + ": no scheduler config; give --config a folder with"
                        + " scheduler/scheduler_config.json");
            }
            writeFolderFiles(ckpt.family(), configs);
            for (LdmComponent c : ckpt.components()) {
                TensorSource part = ckpt.component(c);
                List<WeightItems.Item> items = new ArrayList<>();
                for (String name : part.names()) {
                    items.add(WeightItems.cast(part, name, name, request.dtype()));
                }
                writeChecked(DiffusersLayout.weightFile(c), items, Map.of("format", "pt"), c + " weights, diffusers naming");
            }
        }
    }

    private void writeFolderFiles(LdmFamily family, CheckpointConfigs configs) {
        String scheduler = configs.scheduler().path("_class_name").asText("PNDMScheduler");
        json("model_index.json", DiffusersLayout.modelIndex(family, scheduler), "diffusers pipeline index");
        configs.files().forEach((path, node) -> json(path, node, "diffusers config, " + configs.source()));
        DiffusersLayout.tokenizers(family).forEach((path, bytes) -> out.write(path, o -> o.write(bytes),
                "CLIP tokenizer file (the bundled vocabulary)"));
    }

    // ---- diffusers folder ----

    private void fromFolder() {
        DiffusersFolder folder = DiffusersFolder.open(request.model());
        source.put("path", folder.root().toAbsolutePath().toString());
        source.put("kind", "diffusers folder");
        if (request.ema() != ConvertRequest.Ema.KEEP) {
            throw new UnetlensException("--ema and --drop-ema apply to single-file checkpoints; " + folder.root()
                    + " is a diffusers folder, which holds no EMA copy");
        }
        LdmFamily family = DiffusersLayout.family(folder);
        conversion.put("family", family.label());
        Map<LdmComponent, TensorSource> parts = new EnumMap<>(LdmComponent.class);
        try {
            for (LdmComponent c : DiffusersLayout.components(family)) {
                Path weights = folder.weightFile(c.folder(), request.variant());
                record(weights);
                record(folder.config(c.folder()));
                parts.put(c, folder.openWeights(c.folder(), request.variant()));
            }
            if (request.to() == ConvertRequest.Layout.SINGLE_FILE) {
                folderToFile(folder, family, parts);
            } else {
                folderToFolder(folder, parts);
            }
        } finally {
            parts.values().forEach(TensorSource::close);
        }
    }

    private void folderToFile(DiffusersFolder folder, LdmFamily family, Map<LdmComponent, TensorSource> parts) {
        List<WeightItems.Item> items = new ArrayList<>();
        int zeros = 0;
        for (DiffusersToLdm.Planned p : DiffusersToLdm.plan(family, parts)) {
            zeros += p.parts().isEmpty() ? 1 : 0;
            items.add(planned(p));
        }
        if (zeros > 0) {
            conversion.put("padding_note", "SD 2.x's text encoder has one layer fewer than its OpenCLIP tower; the last"
                    + " resblock (" + zeros + " tensors) is written as zeros, which every loader drops");
        }
        String name = request.name() != null ? request.name() : folder.root().toAbsolutePath().normalize()
                .getFileName() + ".safetensors";
        Path file = writeChecked(name, items, null, family.label() + " checkpoint, LDM naming");
        long t0 = System.nanoTime();
        try (SingleFileCheckpoint back = SingleFileCheckpoint.open(file)) {
            for (Map.Entry<LdmComponent, TensorSource> e : parts.entrySet()) {
                TensorSource mapped = back.component(e.getKey());
                List<WeightItems.Item> expected = new ArrayList<>();
                for (String n : e.getValue().names()) {
                    expected.add(WeightItems.cast(e.getValue(), n, n, request.dtype()));
                }
                verified += sameTensors(mapped, expected, file + " [" + e.getKey() + "]");
            }
        }
        verifySeconds += (System.nanoTime() - t0) / 1e9;
    }

    private WeightItems.Item planned(DiffusersToLdm.Planned p) {
        if (request.dtype() == null || !p.dtype().isFloat() || p.dtype() == request.dtype()) {
            return new WeightItems.Item(p.name(), p.dtype(), p.shape(), o -> DiffusersToLdm.writeTo(p, o));
        }
        return new WeightItems.Item(p.name(), request.dtype(), p.shape(), o -> {
            java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
            if (p.parts().size() == 1 && !p.transpose()) {
                var part = p.parts().getFirst();
                java.lang.foreign.MemorySegment s = part.source().data(part.key());
                Casts.write(s, p.dtype(), request.dtype(), o);
                if (s.isMapped()) {
                    s.unload();
                }
                return;
            }
            DiffusersToLdm.writeTo(p, raw);   // fused q/k/v, a transpose or zeros: a few MB at most
            Casts.write(java.lang.foreign.MemorySegment.ofArray(raw.toByteArray()), p.dtype(), request.dtype(), o);
        });
    }

    private void folderToFolder(DiffusersFolder folder, Map<LdmComponent, TensorSource> parts) {
        copyOtherFiles(folder, parts);
        for (Map.Entry<LdmComponent, TensorSource> e : parts.entrySet()) {
            TensorSource part = e.getValue();
            List<WeightItems.Item> items = new ArrayList<>();
            for (String name : part.names()) {
                items.add(WeightItems.cast(part, name, name, request.dtype()));
            }
            writeChecked(DiffusersLayout.weightFile(e.getKey()), items, Map.of("format", "pt"),
                    e.getKey() + " weights, diffusers naming");
        }
    }

    /** Every file of the folder but weight files (configs, tokenizer files, model_index.json), copied as it is. */
    private void copyOtherFiles(DiffusersFolder folder, Map<LdmComponent, TensorSource> parts) {
        Path root = folder.root();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                String rel = root.relativize(f).toString().replace('\\', '/');
                String n = f.getFileName().toString();
                boolean weights = n.endsWith(".safetensors") || n.endsWith(".bin") || n.endsWith(".ckpt")
                        || n.endsWith(".pt") || n.endsWith(".pth") || n.endsWith(".index.json") || n.endsWith(".onnx")
                        || n.equals(OutputDirectory.MANIFEST) || rel.startsWith(".");
                if (!weights && Files.size(f) <= dev.unetlens.io.InputFiles.MAX_TEXT_BYTES) {
                    record(f);
                    byte[] bytes = dev.unetlens.io.InputFiles.readBytes(f, dev.unetlens.io.InputFiles.MAX_TEXT_BYTES);
                    out.write(rel, o -> o.write(bytes), "copied from the source folder");
                }
            }
        } catch (IOException e) {
            throw new UnetlensException(root + ": cannot list (" + Messages.value(e.getMessage()) + ")", e);
        }
    }

    // ---- shared ----

    /** Writes a safetensors file, reads it back against its sources, and returns its path. */
    private Path writeChecked(String name, List<WeightItems.Item> items, Map<String, String> metadata, String description) {
        long t0 = System.nanoTime();
        ObjectNode entry = WeightItems.write(out, name, items, metadata, description, progress);
        entry.put("tensors", items.size());
        entry.put("cast", items.stream().filter(i -> request.dtype() != null && i.dtype() == request.dtype()).count());
        Path file = out.resolve(name);
        long t1 = System.nanoTime();
        verified += WeightItems.verify(file, items, progress);
        writeSeconds += (t1 - t0) / 1e9;
        verifySeconds += (System.nanoTime() - t1) / 1e9;
        out.saveManifest();
        return file;
    }

    /** Whether {@code mapped} (a component read back from the output) holds exactly {@code expected}. */
    private long sameTensors(TensorSource mapped, List<WeightItems.Item> expected, String where) {
        long bytes = 0;
        if (mapped.names().size() != expected.size()) {
            throw new UnetlensException(where + ": read back as a checkpoint, it holds " + mapped.names().size()
                    + " tensors, the source " + expected.size() + "; the conversion is not trusted");
        }
        for (WeightItems.Item item : expected) {
            var info = mapped.info(item.name()).orElseThrow(() -> new UnetlensException(where + ": read back as a"
                    + " checkpoint, it lacks " + Messages.quote(item.name()) + "; the conversion is not trusted"));
            if (info.dtype() != item.dtype() || !java.util.Arrays.equals(info.shape(), item.shape())) {
                throw new UnetlensException(where + ": read back as a checkpoint, " + Messages.quote(item.name())
                        + " is " + info.dtype() + Messages.shape(info.shape()) + "; the conversion is not trusted");
            }
            java.lang.foreign.MemorySegment written = mapped.data(item.name());
            WeightItems.compare(item, written, where);
            if (written.isMapped()) {
                written.unload();
            }
            bytes += item.bytes();
        }
        return bytes;
    }

    private void describe(TensorSource raw) {
        source.put("tensors", raw.names().size());
        if (raw instanceof TorchCheckpoint t) {
            source.put("layout", t.layout());
            source.set("weights_from", JSON.valueToTree(t.wrapper()));
            if (!t.skipped().isEmpty()) {
                source.set("non_tensor_entries_left_out", JSON.valueToTree(t.skipped()));
            }
            if (t.keyNote() != null) {
                source.put("key_note", t.keyNote());
            }
        }
    }

    private void record(Path file) {
        ArrayNode files = source.withArray("files");
        ObjectNode e = files.addObject();
        e.put("file", file.toAbsolutePath().toString());
        try {
            e.put("bytes", Files.size(file));
        } catch (IOException ex) {
            throw new UnetlensException(file + ": cannot stat (" + Messages.value(ex.getMessage()) + ")", ex);
        }
        long t0 = System.nanoTime();
        e.put("sha256", hashes.sha256(file));
        hashSeconds += (System.nanoTime() - t0) / 1e9;
    }

    private void json(String path, ObjectNode node, String description) {
        byte[] bytes;
        try {
            bytes = (JSON.writeValueAsString(node) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UnetlensException("cannot serialise " + path + ": " + e.getOriginalMessage(), e);
        }
        out.write(path, o -> o.write(bytes), description);
    }

    private static String stem(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot <= 0 ? n : n.substring(0, dot);
    }
}
