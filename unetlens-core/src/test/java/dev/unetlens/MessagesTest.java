package dev.unetlens;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Messages stay one bounded line whatever text a file puts into them. */
class MessagesTest {
    @Test
    void quotedTextIsEscapedAndShortened() {
        assertThat(Messages.quote("conv_in.weight")).isEqualTo("'conv_in.weight'");
        assertThat(Messages.quote("a\nb\r\t\0\u2028\u0085c")).isEqualTo("'a\\nb\\r\\t\\0\\u2028\\u0085c'");
        assertThat(Messages.quote("x\ud800y\udc00")).isEqualTo("'x\\uD800y\\uDC00'");
        assertThat(Messages.quote("\ud83d\ude00")).isEqualTo("'\ud83d\ude00'");
        String huge = "a".repeat(5000) + "TAIL";
        assertThat(Messages.quote(huge)).hasSize(Messages.MAX_QUOTED + 2).contains("(5004 chars)").endsWith("TAIL'");
        assertThat(Messages.quote("\n".repeat(1000))).hasSizeLessThanOrEqualTo(Messages.MAX_QUOTED + 2);
    }

    @Test
    void exceptionMessagesAreOneBoundedLine() {
        UnetlensException e = new UnetlensException("first\nsecond " + "z".repeat(1 << 20));
        assertThat(e.getMessage()).doesNotContain("\n").hasSizeLessThanOrEqualTo(Messages.MAX_LENGTH)
                .startsWith("first\\nsecond zzz");
    }

    @Test
    void aSurrogatePairIsNeverCutInHalf() {
        String s = "\ud83d\ude00".repeat(2000);
        String q = Messages.quote(s);
        for (int i = 0; i < q.length(); i++) {
            char c = q.charAt(i);
            assertThat(Character.isHighSurrogate(c) ? i + 1 < q.length() && Character.isLowSurrogate(q.charAt(i + 1))
                    : !Character.isLowSurrogate(c) || Character.isHighSurrogate(q.charAt(i - 1))).as("at " + i).isTrue();
        }
    }
}
