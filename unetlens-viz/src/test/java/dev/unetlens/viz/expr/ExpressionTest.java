package dev.unetlens.viz.expr;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ExpressionTest {

    @ParameterizedTest(name = "{0} at v={1} is {2}")
    @CsvSource(delimiter = ';', value = {
            "(2+v)/3; 1; 1",                       // Dump U-Net's hue for features
            "(2-2*v)/3; 0.25; 0.5",                // and for attention
            "1.0; 7; 1",
            "abs(v); -0.5; 0.5",
            "-v*2+1; 3; -5",                       // unary minus binds tighter than *, * before +
            "2*-v; 3; -6",
            "--v; 4; 4",
            "+v; 4; 4",
            "1 - 2 - 3; 0; -4",                    // left-associative
            "8 / 4 / 2; 0; 1",
            "2 + 3 * 4; 0; 14",
            "(2 + 3) * 4; 0; 20",
            "1e-1 + .5; 0; 0.6",
            "2.5E2; 0; 250",
            "min(v, 0.2, 0.1); 0.5; 0.1",
            "max(v, 1); 3; 3",
            "clip(v, 0, 1); 1.5; 1",
            "clip(v, 0, 1); -2; 0",
            "pow(v, 3); 2; 8",
            "sqrt(v); 16; 4",
            "exp(0) + log(1); 0; 1",
            "sin(pi/2) + cos(0); 0; 2",
            "sigmoid(v); 0; 0.5",
            "sigmoid(log(3)); 0; 0.75",             // 1/(1+1/3)
            "2 − v × 3 ÷ 2; 2; -1",                 // the typographic operators
            "  abs ( v )  ; -3; 3",
    })
    void evaluates(String text, double v, double expected) {
        assertThat(Expression.parse(text).eval(v)).isCloseTo(expected, within(1e-12));
    }

    @Test
    void constantsAreKnownAsSuch() {
        assertThat(Expression.parse("1.0").isConstant()).isTrue();
        assertThat(Expression.parse("max(0.5, pi)").isConstant()).isTrue();
        assertThat(Expression.parse("0*v").isConstant()).isFalse();
    }

    @Test
    void divisionByZeroIsIeeeNotAnError() {
        assertThat(Expression.parse("1/v").eval(0)).isInfinite();
        assertThat(Expression.parse("log(v)").eval(-1)).isNaN();
    }

    @ParameterizedTest(name = "''{0}'' fails at column {1}")
    @CsvSource(delimiter = ';', value = {
            "'';                1; empty expression",
            "'   ';             4; empty expression",
            "(2+v/3;            1; '(' is never closed",
            "2+;                3; expression ends",
            "v**2;              2; write a power as pow(x, y)",
            "v^2;               2; write a power as pow(x, y)",
            "np.abs(v);         1; there are no modules here",
            "foo(v);            1; unknown function 'foo'",
            "x + 1;             1; unknown name 'x'",
            "abs;               1; abs is a function",
            "abs(v, 1);         1; abs takes 1 argument",
            "pow(v);            1; pow takes 2 arguments",
            "clip(v, 0);        1; clip takes 3 arguments",
            "min(v);            1; min takes 2 or more arguments",
            "sqrt();            6; sqrt needs 1 argument",
            "2v;                2; write 2*v, not 2v",
            "v);                2; ')' without a matching '('",
            "3 $ 4;             3; unexpected '$'",
            "1e + v;            2; exponent needs digits",
            "max(v 1);          7; expected ',' or ')'",
            "(v 1);             4; expected ')' but found '1'",
            "1 + .;             5; '.' is not a number",
            "sin(v;             6; sin( is never closed",
    })
    void refusesWithTheColumn(String text, int column, String problem) {
        assertThatThrownBy(() -> Expression.parse(text))
                .isInstanceOfSatisfying(ExpressionException.class, e -> {
                    assertThat(e.column()).isEqualTo(column);
                    assertThat(e.getMessage()).startsWith("column " + column + ": ").contains(problem);
                    assertThat(e.source()).isEqualTo(text);
                });
    }

    @Test
    void pointerPutsACaretUnderTheColumn() {
        ExpressionException e = org.junit.jupiter.api.Assertions.assertThrows(
                ExpressionException.class, () -> Expression.parse("(2+v)/3 ^ 2"));
        assertThat(e.pointer()).isEqualTo("(2+v)/3 ^ 2\n        ^");
    }
}
