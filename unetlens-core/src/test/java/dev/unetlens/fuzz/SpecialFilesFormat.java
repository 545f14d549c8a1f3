package dev.unetlens.fuzz;

import dev.unetlens.io.SpecialFiles;
import dev.unetlens.io.ldm.LdmFamily;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * One file of a model (any file of the folder, or a single-file checkpoint) replaced by something that is not what
 * its name says: a FIFO, a link to {@code /dev/zero}, {@code /dev/null} or {@code /dev/urandom}, a directory, a
 * dangling link or a link loop, an empty or a 200 MB sparse file, pickles of protocol 0, 2 and 4 (one that would call
 * {@code os.system}), a torch zip, a safetensors file with a zip after it, a weight file in a config's place, or
 * nothing at all. The whole model is loaded.
 */
final class SpecialFilesFormat implements FuzzFormat {
    private static final List<String> KINDS = List.of("fifo", "dev-zero", "dev-null", "dev-urandom", "directory",
            "dangling-link", "link-loop", "empty", "sparse-200MB", "pickle-0", "pickle-2", "pickle-4", "pickle-os-system",
            "torch-zip", "safetensors+zip", "weights-as-config", "config-as-weights", "missing");
    /** {@code pickle.dumps({'a': 1}, protocol=0)}. */
    static final byte[] PICKLE_0 = "(dp0\nVa\np1\nI1\ns.".getBytes(StandardCharsets.ISO_8859_1);
    /** torch's legacy magic number, {@code pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)}. */
    static final byte[] PICKLE_2 = {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9,
        0x20, 0x6a, (byte) 0xa8, 0x50, 0x19, 0x2e};
    /** {@code pickle.dumps({'a': 1}, protocol=4)}. */
    static final byte[] PICKLE_4 = {(byte) 0x80, 4, (byte) 0x95, 11, 0, 0, 0, 0, 0, 0, 0, 0x7d, (byte) 0x94, (byte) 0x8c,
        1, 0x61, (byte) 0x94, 0x4b, 1, 0x73, 0x2e};
    /** A protocol 2 pickle that calls {@code os.system("touch PWNED")} when unpickled. */
    static final byte[] PICKLE_OS = ("\u0080\u0002cos\nsystem\nq\u0000X\u000b\u0000\u0000\u0000touch PWNEDq\u0001\u0085"
            + "q\u0002Rq\u0003.").getBytes(StandardCharsets.ISO_8859_1);

    private final MicroModel micro;

    SpecialFilesFormat(MicroModel micro) {
        this.micro = micro;
    }

    @Override
    public String name() {
        return "special-files";
    }

    @Override
    public int weight() {
        return 8;
    }

    @Override
    public FuzzCase make(SplittableRandom rnd, Path dir) throws IOException {
        String kind = Mutations.pick(rnd, KINDS);
        List<Path> fifos = new ArrayList<>();
        if (rnd.nextInt(6) == 0) {
            Path file = dir.resolve(rnd.nextInt(4) == 0 ? "model.ckpt" : "model.safetensors");
            replace(file, kind, rnd, fifos);
            return new FuzzCase(kind + " as " + file.getFileName(), List.of(file), () -> SingleFileFormat.load(file),
                    fifos);
        }
        String relative = Mutations.pick(rnd, MicroModel.FILES);
        Path model = micro.linkFolder(dir.resolve("model"), relative);
        Path target = model.resolve(relative);
        Files.createDirectories(target.getParent());
        replace(target, kind, rnd, fifos);
        return new FuzzCase(kind + " as " + relative, List.of(target, target.getParent()), () -> Checks.pipeline(model),
                fifos);
    }

    private void replace(Path target, String kind, SplittableRandom rnd, List<Path> fifos) throws IOException {
        switch (kind) {
            case "fifo" -> {
                SpecialFiles.fifo(target);
                fifos.add(target);
            }
            case "dev-zero" -> Files.createSymbolicLink(target, Path.of("/dev/zero"));
            case "dev-null" -> Files.createSymbolicLink(target, Path.of("/dev/null"));
            case "dev-urandom" -> Files.createSymbolicLink(target, Path.of("/dev/urandom"));
            case "directory" -> Files.createDirectories(target);
            case "dangling-link" -> Files.createSymbolicLink(target, target.resolveSibling("nowhere"));
            case "link-loop" -> {
                Files.createSymbolicLink(target, target.resolveSibling("loop"));
                Files.createSymbolicLink(target.resolveSibling("loop"), target);
            }
            case "empty" -> Files.write(target, new byte[0]);
            case "sparse-200MB" -> {
                try (RandomAccessFile f = new RandomAccessFile(target.toFile(), "rw")) {
                    f.setLength(200L << 20);
                }
            }
            case "pickle-0" -> Files.write(target, PICKLE_0);
            case "pickle-2" -> Files.write(target, PICKLE_2);
            case "pickle-4" -> Files.write(target, PICKLE_4);
            case "pickle-os-system" -> Files.write(target, PICKLE_OS);
            case "torch-zip" -> Files.write(target, torchZip());
            case "safetensors+zip" -> Files.write(target, concat(micro.singleFiles.get(LdmFamily.SD1).bytes(), torchZip()));
            case "weights-as-config" -> Files.copy(micro.file("text_encoder/model.safetensors"), target);
            case "config-as-weights" -> Files.copy(micro.file("unet/config.json"), target);
            case "missing" -> {
                // not written
            }
            default -> throw new IllegalStateException(kind);
        }
    }

    /** A zip as torch.save writes one: {@code archive/data.pkl} and a storage. */
    static byte[] torchZip() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("archive/data.pkl"));
            zip.write(PICKLE_OS);
            zip.putNextEntry(new ZipEntry("archive/data/0"));
            zip.write(new byte[16]);
        }
        return out.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return Mutations.splice(a, a.length, 0, b);
    }
}
