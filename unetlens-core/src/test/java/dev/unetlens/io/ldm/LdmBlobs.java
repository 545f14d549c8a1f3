package dev.unetlens.io.ldm;

import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.TensorSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * diffusers state dicts held as {@link Blob}s, in LDM naming by the project's own inverse ({@link DiffusersToLdm}),
 * for tests that build LDM files in memory. The inverse itself is checked against the golden single file, which
 * diffusers' own script made ({@code RoundTripTest}).
 */
final class LdmBlobs {
    private LdmBlobs() {
    }

    static Map<String, Blob> unet(Map<String, Blob> d) {
        Map<String, String> names = DiffusersToLdm.unet(d.keySet());
        Map<String, Blob> out = new LinkedHashMap<>();
        d.forEach((k, v) -> out.put(names.get(k), v));
        return out;
    }

    /** In LDM naming, attention weights as 1×1 conv kernels. */
    static Map<String, Blob> vae(Map<String, Blob> d) {
        Map<String, String> names = DiffusersToLdm.vae(d.keySet());
        Map<String, Blob> out = new LinkedHashMap<>();
        d.forEach((k, v) -> {
            String ldm = names.get(k);
            out.put(ldm, DiffusersToLdm.vaeKernel(ldm, v.shape()) ? v.reshaped(v.shape()[0], v.shape()[1], 1, 1) : v);
        });
        return out;
    }

    /** A transformers CLIP text model as OpenCLIP's text tower (q/k/v fused, the projection transposed). */
    static Map<String, Blob> openClip(Map<String, Blob> d) {
        Map<String, Blob> out = new LinkedHashMap<>();
        try (TensorSource source = source(d)) {
            for (DiffusersToLdm.Planned p : DiffusersToLdm.openClip(source, false)) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                DiffusersToLdm.writeTo(p, b);
                out.put(p.name(), new Blob(p.dtype(), p.shape(), b.toByteArray()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** The blobs as a safetensors file in a temporary folder (deleted on exit), opened. */
    private static TensorSource source(Map<String, Blob> d) throws IOException {
        Path dir = Files.createTempDirectory("ldm-blobs");
        dir.toFile().deleteOnExit();
        Path file = TestSafetensors.write(dir.resolve("t.safetensors"), d);
        file.toFile().deleteOnExit();
        return SafetensorsFile.open(file);
    }

    /** {@code part}'s keys under {@code prefix}, added to {@code into}; returns {@code into}. */
    static Map<String, Blob> prefixed(Map<String, Blob> into, String prefix, Map<String, Blob> part) {
        part.forEach((k, v) -> into.put(prefix + k, v));
        return into;
    }
}
