package dev.unetlens.io.ldm;

import dev.unetlens.config.JsonConfig;
import dev.unetlens.golden.Golden;

import java.nio.file.Files;
import java.util.List;

/**
 * Golden models by family, discovered from their folders (never by name), so fixture sets of other models run
 * the same tests: SDXL-like models have a second text encoder; SD 2.x-like ones one OpenCLIP-style encoder (GELU).
 */
final class GoldenFamilies {
    private GoldenFamilies() {
    }

    static List<String> xl() {
        Golden g = Golden.get();
        return g.models().stream().filter(m -> Files.isDirectory(g.path("models/" + m + "/text_encoder_2"))).toList();
    }

    static List<String> sd2() {
        Golden g = Golden.get();
        return g.models().stream()
                .filter(m -> !Files.isDirectory(g.path("models/" + m + "/text_encoder_2")))
                .filter(m -> "gelu".equals(JsonConfig.read(g.path("models/" + m + "/text_encoder/config.json"))
                        .string("hidden_act", "quick_gelu")))
                .toList();
    }
}
