package dev.unetlens.intervene;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The --edit grammar: every operation and qualifier, round trips, and one-line errors. */
class EditParseTest {
    @TempDir
    Path tmp;

    @Test
    void theExampleOfTheBrief() {
        Edit e = Edit.parse("mid_block:scale=0.5@steps=1-10,channels=0-31,box=0.25,0.25,0.75,0.75");
        assertThat(e.target()).isEqualTo("mid_block");
        assertThat(e.op()).isEqualTo(Edit.Op.SCALE);
        assertThat(e.value()).isEqualTo(new Edit.Value.Scalar(0.5));
        assertThat(e.steps()).isEqualTo("1-10");
        assertThat(e.channels().describe()).isEqualTo("0-31");
        assertThat(e.region()).isEqualTo(new Region.Box(0.25, 0.25, 0.75, 0.75));
        assertThat(e.rows()).isEqualTo(dev.unetlens.hook.Capture.Rows.ALL);
        assertThat(e.describe()).isEqualTo("mid_block:scale=0.5@steps=1-10,channels=0-31,box=0.25,0.25,0.75,0.75");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            M00:zero
            IN00,IN05:add=1.5
            IN00-OUT11(+2):replace=-2
            down_blocks[1].attentions[0].transformer_blocks[0].attn2:probs:zero@rows=cond
            up_blocks.3.attentions.0:patch@steps=1,3-5(+2),channels=0-3,8
            :emb:scale=2@rows=uncond
            mid_block:zero@box=0,0,1,0.5
            """)
    void roundTrips(String text) {
        Edit e = Edit.parse(text);
        assertThat(e.describe()).isEqualTo(text);
        assertThat(Edit.parse(e.describe())).isEqualTo(e);
    }

    @Test
    void targetsWithInternalPointsAndSpaces() {
        Edit e = Edit.parse(" down_blocks[1].attentions[0].transformer_blocks[0].attn2:probs : zero @ rows = cond , steps = 2 ");
        assertThat(e.target()).isEqualTo("down_blocks[1].attentions[0].transformer_blocks[0].attn2:probs");
        assertThat(e.rows()).isEqualTo(dev.unetlens.hook.Capture.Rows.COND);
        assertThat(e.steps()).isEqualTo("2");
    }

    @Test
    void filesForArraysSteeringAndMasks() throws Exception {
        Path vec = tmp.resolve("dir.npy");
        Npy.write(vec, NpyArray.ofFloats(new long[] {4}, new float[] {1, 2, 3, 4}));
        Edit steer = Edit.parse("OUT03:steer=" + vec + "*4");
        assertThat(steer.op()).isEqualTo(Edit.Op.STEER);
        Edit.Value.Array a = (Edit.Value.Array) steer.value();
        assertThat(a.alpha()).isEqualTo(4.0);
        assertThat(a.array().toFloats()).containsExactly(1, 2, 3, 4);
        assertThat(steer.describe()).isEqualTo("OUT03:steer=" + vec + "*4.0");
        assertThat(((Edit.Value.Array) Edit.parse("OUT03:steer=" + vec).value()).alpha()).isEqualTo(1.0);
        assertThat(Edit.parse("M00:add=" + vec).value()).isInstanceOf(Edit.Value.Array.class);

        Path mask = tmp.resolve("mask.png");
        byte[] rgb = new byte[4 * 4 * 3];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                java.util.Arrays.fill(rgb, (i * 4 + j) * 3, (i * 4 + j) * 3 + 3, (byte) 255);   // top-left 2×2 white
            }
        }
        try (var out = Files.newOutputStream(mask)) {
            new RgbImage(4, 4, rgb).writePng(out, Map.of());
        }
        Edit m = Edit.parse("M00:zero@mask=" + mask + ",steps=1");
        assertThat(m.region()).isInstanceOf(Region.Mask.class);
        assertThat(m.region().select(2, 2)).containsExactly(true, false, false, false);
        boolean[] at8 = m.region().select(8, 8);
        assertThat(at8[0]).isTrue();
        assertThat(at8[3]).isTrue();
        assertThat(at8[4]).isFalse();
        assertThat(at8[3 * 8]).isTrue();
        assertThat(at8[4 * 8]).isFalse();
        assertThat(m.steps()).isEqualTo("1");
    }

    /** Box positions are selected by their centres: at 8×8, 0.25–0.75 is rows and columns 2–5. */
    @Test
    void boxesSelectByCentres() {
        boolean[] s = new Region.Box(0.25, 0.25, 0.75, 0.75).select(8, 8);
        for (int i = 0; i < 8; i++) {
            for (int j = 0; j < 8; j++) {
                assertThat(s[i * 8 + j]).as("(%d, %d)", i, j).isEqualTo(i >= 2 && i <= 5 && j >= 2 && j <= 5);
            }
        }
        assertThat(new Region.Box(0, 0, 1, 1).select(3, 5)).containsOnly(true);
        assertThat(new Region.Box(0.4, 0.4, 0.45, 0.45).select(2, 2)).containsOnly(false);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            mid_block:scal=0.5           | expected TARGET:OPERATION[@QUALIFIERS] with an operation of zero, scale=K
            scale=0.5                    | it names no module; write TARGET:OPERATION like mid_block:zero
            M00:scale                    | scale= needs a number, like scale=0.5
            M00:scale=abc                | scale= needs a finite number, got 'abc'
            M00:scale=NaN                | scale= needs a finite number, got 'NaN'
            M00:add=1e999                | add= needs a finite number, got '1e999'
            M00:zero=1                   | 'zero' takes no value
            M00:zero@foo=1               | unknown qualifier 'foo'; qualifiers are steps=, channels=, box=, mask= and rows=
            M00:zero@steps=0             | step selection '0' is outside 1–1000
            M00:zero@steps=a             | bad step selection 'a'
            M00:zero@box=0.5,0.5,0.2,0.9 | box=0.5,0.5,0.2,0.9 must be X0,Y0,X1,Y1 fractions of the map
            M00:zero@box=1,2             | box= takes four fractions X0,Y0,X1,Y1
            M00:zero@channels=5-2        | channel range 5-2 runs backwards
            M00:zero@channels=x          | bad channels 'x'
            M00:zero@box=0,0,1,1,box=0,0,1,1 | box= given twice
            M00:zero@rows=maybe          | rows= must be all, cond or uncond, got 'maybe'
            M00:zero@                    | nothing after '@'
            M00:steer=v.txt              | steer= takes a .npy file of one value per channel, got 'v.txt'
            M00:steer=v.npy*x            | the steer coefficient needs a finite number, got 'x'
            M00:add=missing.npy          | missing.npy
            M00:zero@mask=missing.png    | missing.png: no such image file
            """)
    void malformedEditsFailInOneLine(String text, String message) {
        UnetlensException e = catchThrowableOfType(UnetlensException.class, () -> Edit.parse(text));
        assertThat(e).as("rejected").isNotNull();
        assertThat(e.getMessage()).startsWith("bad --edit '" + text.strip() + "': ").contains(message).doesNotContain("\n");
    }

    @Test
    void lacksTargetRecognisesSweepTemplates() {
        assertThat(Edit.lacksTarget("zero@steps=1")).isTrue();
        assertThat(Edit.lacksTarget("scale=0.5")).isTrue();
        assertThat(Edit.lacksTarget("patch")).isTrue();
        assertThat(Edit.lacksTarget("M00:zero")).isFalse();
        assertThat(Edit.lacksTarget("{block}:zero")).isFalse();
    }
}
