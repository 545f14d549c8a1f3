package dev.unetlens.intervene;

import dev.unetlens.UnetlensException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The grammar of --token-swap, --token-mix and --position-scale: what each reads, how it is written back, refusals. */
class TextEditParseTest {
    @Test
    void swapIsOneTermOfWeightOne() {
        TextEdit.TokenMix s = TextEdit.swap(" puppy = skunk ");
        assertThat(s.word()).isEqualTo("puppy");
        assertThat(s.terms()).containsExactly(new TextEdit.Term(1, "skunk"));
        assertThat(s.describe()).isEqualTo("--token-swap puppy=skunk");
    }

    @Test
    void mixReadsWeightsSignsAndBareWords() {
        TextEdit.TokenMix m = TextEdit.mix("puppy=0.6*puppy+0.4*skunk");
        assertThat(m.terms()).containsExactly(new TextEdit.Term(0.6, "puppy"), new TextEdit.Term(0.4, "skunk"));
        assertThat(m.describe()).isEqualTo("--token-mix puppy=0.6*puppy+0.4*skunk");
        assertThat(TextEdit.mix("dog = cat - 0.5 * dog + 1e-1*car").terms())
                .containsExactly(new TextEdit.Term(1, "cat"), new TextEdit.Term(-0.5, "dog"), new TextEdit.Term(0.1, "car"));
        assertThat(TextEdit.mix("dog=-2*cat").describe()).isEqualTo("--token-mix dog=-2*cat");
        TextEdit.TokenMix again = TextEdit.mix(TextEdit.mix("dog=cat-0.25*dog").describe().substring("--token-mix ".length()));
        assertThat(again.terms()).containsExactly(new TextEdit.Term(1, "cat"), new TextEdit.Term(-0.25, "dog"));
    }

    @Test
    void positionScaleAllOrSome() {
        TextEdit.PositionScale all = TextEdit.positionScale("0");
        assertThat(all.factor()).isZero();
        assertThat(all.positions()).isNull();
        assertThat(all.describe()).isEqualTo("--position-scale 0");
        TextEdit.PositionScale some = TextEdit.positionScale("0.5@1-4,7");
        assertThat(some.positions().select(8, "x")).containsExactly(false, true, true, true, true, false, false, true);
        assertThat(some.describe()).isEqualTo("--position-scale 0.5@1-4,7");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "swap|puppy|write WORD=…, like puppy=skunk",
        "swap|puppy=a=b|write WORD=…",
        "swap|=skunk|one word",
        "swap|puppy=two words|one word",
        "mix|puppy=0.6*puppy 0.4*skunk|cannot read '0.4*skunk'",
        "mix|puppy=0.6**skunk|cannot read",
        "mix|puppy=|at least one word",
        "mix|puppy=1e999*skunk|not a finite number",
        "position|x|'x' is not a finite number",
        "position|NaN|not a finite number",
        "position|0@a-b|positions are 0-based token positions",
        "position|0@4-1|runs backwards"})
    void mistakesFailInOneLine(String kind, String text, String message) {
        UnetlensException e = catchThrowableOfType(UnetlensException.class, () -> {
            switch (kind) {
                case "swap" -> TextEdit.swap(text);
                case "mix" -> TextEdit.mix(text);
                default -> TextEdit.positionScale(text);
            }
        });
        assertThat(e).as(text).isNotNull();
        assertThat(e.getMessage()).contains(message).doesNotContain("\n");
    }

    @Test
    void describedEditsListEachOnce() {
        assertThat(List.of(TextEdit.swap("a=b"), TextEdit.positionScale("2")).stream().map(TextEdit::describe))
                .containsExactly("--token-swap a=b", "--position-scale 2");
    }
}
