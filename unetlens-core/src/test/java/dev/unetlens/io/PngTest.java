package dev.unetlens.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** PNG text chunks as PIL writes them: tEXt for Latin-1 text, iTXt (UTF-8) otherwise; both read back exactly. */
class PngTest {
    @Test
    void latinTextGoesToTextChunksAndTheRestToInternationalOnes(@TempDir Path tmp) throws Exception {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("parameters", "a café at night\nSteps: 20, Seed: 1");
        text.put("Description", "channels 0–319 · t = 751 · 猫");
        Path file = tmp.resolve("x.png");
        AtomicFiles.write(file, o -> new RgbImage(4, 3, new byte[36]).writePng(o, text));
        assertThat(RgbImage.readPngText(file)).containsExactlyInAnyOrderEntriesOf(text);
        String raw = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        assertThat(raw).contains("tEXtparameters\0a caf\u00e9 at night").contains("iTXtDescription");
        assertThat(RgbImage.read(file).width()).isEqualTo(4);
    }
}
