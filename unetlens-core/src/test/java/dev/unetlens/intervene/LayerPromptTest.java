package dev.unetlens.intervene;

import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.hook.BlockNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The layer-prompt parser on every example of Dump U-Net's README (translated into English), its whitespace
 * rules, priorities, and malformed prompts with the caret's column.
 */
class LayerPromptTest {
    /** SD 1.x block names (the bundled tiny model has SD 1.5's structure): IN00–IN11, M00, OUT00–OUT11. */
    static final BlockNames SD15 = names(resource("/dev/unetlens/synth/tiny-sd15/unet.json"));

    static BlockNames names(String unetJson) {
        return BlockNames.of(UNetConfig.from(JsonConfig.parse("unet", unetJson)));
    }

    static String resource(String name) {
        try (InputStream in = LayerPromptTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Map<String, String> texts(String prompt) {
        return LayerPrompt.parse(prompt, SD15).texts();
    }

    /** Every block's text: {@code base} everywhere, with the listed blocks overridden. */
    private static Map<String, String> expect(String base, Map<String, String> overrides) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String b : SD15.names()) {
            out.put(b, overrides.getOrDefault(b, base));
        }
        return out;
    }

    // ---- README: "Notation"

    /** README: {@code a (~: IN00-OUT11: cute ; M00: excellent :~) girl} reads "a  cute  girl" except M00's "a  excellent  girl". */
    @Test
    void readmeNotationExample() {
        LayerPrompt p = LayerPrompt.parse("a (~: IN00-OUT11: cute ; M00: excellent :~) girl", SD15);
        assertThat(p.texts()).isEqualTo(expect("a  cute  girl", Map.of("M00", "a  excellent  girl")));
        assertThat(p.plain()).isEqualTo("a  girl");
        assertThat(p.hasGroups()).isTrue();
    }

    /** README: the layout of a group, one pair per line, each ended by ';'. */
    @Test
    void readmeMultiLineLayout() {
        String prompt = """
                a (~:
                    IN00-IN02, OUT04: cute;
                    IN03-IN05: beautiful;
                    _: excellent;
                :~) school girl""";
        Map<String, String> t = texts(prompt);
        assertThat(t.get("IN00")).isEqualTo("a  cute school girl");
        assertThat(t.get("OUT04")).isEqualTo("a  cute school girl");
        assertThat(t.get("IN04")).isEqualTo("a  beautiful school girl");
        assertThat(t.get("M00")).isEqualTo("a  excellent school girl");
        assertThat(t.get("IN06")).isEqualTo("a  excellent school girl");
    }

    /** README's block specs: single, list, range (ends included, IN11–M00–OUT00 adjacent), range with a stride. */
    @Test
    void readmeBlockSpecs() {
        assertThat(named("(~: IN00: x :~)")).containsExactly("IN00");
        assertThat(named("(~: IN00, IN01, M00: x :~)")).containsExactly("IN00", "IN01", "M00");
        assertThat(named("(~: IN00-OUT11: x :~)")).hasSize(25);
        assertThat(named("(~: IN10-OUT01: x :~)")).containsExactly("IN10", "IN11", "M00", "OUT00", "OUT01");
        assertThat(named("(~: IN00-OUT11(+2): x :~)")).containsExactly(
                "IN00", "IN02", "IN04", "IN06", "IN08", "IN10", "M00", "OUT01", "OUT03", "OUT05", "OUT07", "OUT09", "OUT11");
        assertThat(named("(~: IN00-OUT11(+1): x :~)")).hasSize(25);
    }

    /** The blocks whose text is " x " (the others read nothing). */
    private static List<String> named(String prompt) {
        List<String> out = new ArrayList<>();
        texts(prompt).forEach((b, t) -> {
            if (t.equals(" x ")) {
                out.add(b);
            } else {
                assertThat(t).as(b).isEmpty();
            }
        });
        return out;
    }

    // ---- README: "Examples" 1–5

    @Test
    void readmeExample1() {
        assertThat(texts("(~: IN00: A ; IN01: B :~)")).isEqualTo(expect("", Map.of("IN00", " A ", "IN01", " B ")));
    }

    @Test
    void readmeExample2() {
        assertThat(texts("(~: IN00: A ; IN01: B ; IN02: C :~)"))
                .isEqualTo(expect("", Map.of("IN00", " A ", "IN01", " B ", "IN02", " C ")));
    }

    /** 3: "_" gives every other block D. */
    @Test
    void readmeExample3() {
        assertThat(texts("(~: IN00: A ; IN01: B ; IN02: C ; _ : D :~)"))
                .isEqualTo(expect(" D ", Map.of("IN00", " A ", "IN01", " B ", "IN02", " C ")));
    }

    @Test
    void readmeExample4() {
        assertThat(texts("(~: IN00,IN01: A ; M00 : B :~)"))
                .isEqualTo(expect("", Map.of("IN00", " A ", "IN01", " A ", "M00", " B ")));
    }

    /** 5: A everywhere (IN00–OUT11), but B at M00: the later spec wins. */
    @Test
    void readmeExample5() {
        assertThat(texts("(~: IN00-OUT11: A ; M00 : B :~)")).isEqualTo(expect(" A ", Map.of("M00", " B ")));
    }

    /** README "With Dynamic Prompts": one block gets "bad anatomy" appended, the others the base prompt. */
    @Test
    void readmeDynamicPromptsTemplate() {
        for (String block : SD15.names()) {
            Map<String, String> t = texts("a cute school girl, pink hair, wide shot, (~:" + block + ":bad anatomy:~)");
            assertThat(t).isEqualTo(expect("a cute school girl, pink hair, wide shot, ",
                    Map.of(block, "a cute school girl, pink hair, wide shot, bad anatomy")));
        }
    }

    // ---- whitespace, priorities, several groups, escapes

    /** Spaces after "(~:", before ':', after ';' and after a final ';' are skipped; spaces in ": prompt ;" are kept. */
    @Test
    void whitespaceRules() {
        assertThat(texts("(~:IN00:a;IN01:b:~)").get("IN01")).isEqualTo("b");
        assertThat(texts("(~:   IN00   :a;   IN01\t: b  ;  \n :~)")).isEqualTo(expect("", Map.of("IN00", "a", "IN01", " b  ")));
        assertThat(texts("(~: IN00 - IN02 ( + 1 ) , M00 : z :~)").get("IN01")).isEqualTo(" z ");
        assertThat(texts("(~: IN00: a b  c :~)").get("IN00")).isEqualTo(" a b  c ");
    }

    /** "_" is the lowest priority wherever it stands; the last "_" of a group counts. */
    @Test
    void underscoreIsLowestPriority() {
        assertThat(texts("(~: _: D ; IN00: A ; _: E :~)")).isEqualTo(expect(" E ", Map.of("IN00", " A ")));
    }

    @Test
    void laterSpecsWin() {
        Map<String, String> t = texts("(~: IN00-IN05: A ; IN03: B ; IN00-IN01: C :~)");
        assertThat(List.of(t.get("IN00"), t.get("IN01"), t.get("IN02"), t.get("IN03"), t.get("IN05"), t.get("IN06")))
                .containsExactly(" C ", " C ", " A ", " B ", " A ", "");
    }

    /** Several groups per prompt, each with its own specs; blocks no group names read the text around them. */
    @Test
    void severalGroups() {
        LayerPrompt p = LayerPrompt.parse("a (~:IN00:red:~) car (~:M00:at night;_:by day:~).", SD15);
        assertThat(p.text("IN00")).isEqualTo("a red car by day.");
        assertThat(p.text("M00")).isEqualTo("a  car at night.");
        assertThat(p.text("OUT11")).isEqualTo("a  car by day.");
        assertThat(p.plain()).isEqualTo("a  car .");
    }

    /** A1111 emphasis keeps its ':' and parentheses; '\;' is ';', '\\' is '\', other backslashes stay. */
    @Test
    void contentKeepsColonsAndEscapes() {
        Map<String, String> t = texts("(~: IN00:(cute:1.2) \\(x\\) a\\;b c\\\\;IN01:d:~)");
        assertThat(t.get("IN00")).isEqualTo("(cute:1.2) \\(x\\) a;b c\\");
        assertThat(t.get("IN01")).isEqualTo("d");
    }

    @Test
    void plainPromptsAndNames() {
        LayerPrompt p = LayerPrompt.parse("a cute girl", SD15);
        assertThat(p.hasGroups()).isFalse();
        assertThat(p.texts().values()).containsOnly("a cute girl");
        assertThat(LayerPrompt.uses("a cute girl")).isFalse();
        assertThat(LayerPrompt.uses("a (~:M00:x:~)")).isTrue();
        assertThat(LayerPrompt.uses("oops :~)")).isTrue();
        assertThat(texts("(~: in5, m0, out7: x :~)").get("IN05")).isEqualTo(" x ");
        assertThat(texts("(~: in5, m0, out7: x :~)").get("OUT07")).isEqualTo(" x ");
    }

    /** SDXL has IN00–IN08, M00, OUT00–OUT08: IN09 is unknown there. */
    @Test
    void blockNamesComeFromTheModel() throws Exception {
        BlockNames xl = names(java.nio.file.Files.readString(Golden.get().path("models/tiny-sdxl/unet/config.json")));
        assertThat(LayerPrompt.parse("(~: IN00-OUT08: x :~)", xl).texts()).hasSize(xl.names().size());
        LayerPromptException e = catchThrowableOfType(LayerPromptException.class,
                () -> LayerPrompt.parse("(~: IN" + String.format("%02d", xl.names().indexOf("M00")) + ": x :~)", xl));
        assertThat(e.reason()).startsWith("unknown block");
    }

    // ---- malformed prompts: one message, the prompt, a caret under the problem

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            a (~: IN00 cute :~) girl        | 12 | expected ':' after the block names (separate blocks with ',')
            a (~: IN00: cute girl           |  3 | '(~:' is not closed by ':~)'
            a cute girl :~)                 | 13 | ':~)' closes no group; open one with '(~:'
            (~: IN12: x :~)                 |  5 | unknown block 'IN12'; this model has IN00–IN11, M00, OUT00–OUT11
            (~: XY00: x :~)                 |  5 | unknown block 'XY00'; this model has IN00–IN11, M00, OUT00–OUT11
            (~: OUT11-IN00: x :~)           |  5 | block range OUT11-IN00 runs backwards; blocks go IN00…IN11, M00, OUT00…OUT11
            (~: IN00-OUT11(+0): x :~)       | 17 | a range step must be (+1) or more, got (+0)
            (~: IN00-OUT11(2): x :~)        | 15 | a range step is written (+k), like IN00-OUT11(+2)
            (~: IN00-OUT11(+2: x :~)        | 18 | expected ')' to close the range step
            "(~:   :~)"                     |  7 | empty group; write block names and a prompt like (~: IN00-OUT11: cute :~)
            (~: _, IN00: x :~)              |  5 | '_' (every other block) stands alone; it cannot be listed with blocks
            (~: IN00, : x :~)               | 11 | expected a block name (IN00 … OUT11, M00) or '_'
            (~: IN00: a ; ; :~)             | 15 | expected a block name (IN00 … OUT11, M00) or '_'
            (~: IN00: a (~: IN01: b :~)     | 13 | a group cannot hold another '(~:'; close the first with ':~)'
            (~: IN00 :~)                    | 10 | expected ':' and a prompt after the block names
            (~: cute :~)                    |  5 | expected a block name (IN00 … OUT11, M00) or '_'
            (~: IN00-: x :~)                | 10 | expected a block name (IN00 … OUT11, M00) or '_'
            """)
    void malformedPromptsPointAtTheProblem(String prompt, int column, String reason) {
        LayerPromptException e = catchThrowableOfType(LayerPromptException.class, () -> LayerPrompt.parse(prompt, SD15));
        assertThat(e).as("rejected").isNotNull();
        assertThat(e.reason()).isEqualTo(reason);
        assertThat(e.index() + 1).as("column").isEqualTo(column);
        String[] lines = e.getMessage().split("\n", -1);
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).isEqualTo("bad layer prompt at column " + column + ": " + reason);
        assertThat(lines[1]).isEqualTo("  " + prompt);
        assertThat(lines[2]).isEqualTo("  " + " ".repeat(column - 1) + "^");
    }

    /** In a prompt with line breaks the message names the line and shows only that line. */
    @Test
    void multiLineErrorShowsItsLine() {
        String prompt = "a (~:\n  IN00: cute;\n  IN0x: nice\n:~) girl";
        LayerPromptException e = catchThrowableOfType(LayerPromptException.class, () -> LayerPrompt.parse(prompt, SD15));
        assertThat(e.getMessage()).isEqualTo("""
                bad layer prompt at line 3, column 3: expected a block name (IN00 … OUT11, M00) or '_'
                    IN0x: nice
                    ^""");
    }

    /** A long prompt is cut to a window around the problem; the caret still points at it. */
    @Test
    void longPromptsAreWindowed() {
        String prompt = "x".repeat(100) + " (~: IN99: y :~) " + "z".repeat(100);
        LayerPromptException e = catchThrowableOfType(LayerPromptException.class, () -> LayerPrompt.parse(prompt, SD15));
        String[] lines = e.getMessage().split("\n");
        assertThat(lines[1]).startsWith("  …").endsWith("…").hasSizeLessThan(70);
        int caret = lines[2].indexOf('^');
        assertThat(lines[1].substring(caret)).startsWith("IN99");
    }

    @Test
    void textOfAnUnknownBlockFails() {
        assertThatThrownBy(() -> LayerPrompt.parse("a", SD15).text("IN99")).hasMessageContaining("IN99");
    }
}
