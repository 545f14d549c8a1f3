package dev.unetlens.hook;

import dev.unetlens.UnetlensException;

import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sampling steps as Dump U-Net writes them ({@code --at-steps}): steps count from 1;
 * {@code selection := item (',' item)*}, {@code item := n | a '-' b ('(+' k ')')?} (both ends included, every k-th):
 * {@code 1,5-20(+5)} = 1, 5, 10, 15, 20.
 */
public final class StepSelection {
    private static final Pattern ITEM = Pattern.compile("\\s*(\\d+)\\s*(?:-\\s*(\\d+)\\s*(?:\\(\\s*\\+\\s*(\\d+)\\s*\\))?)?\\s*");

    private StepSelection() {
    }

    /** The 1-based steps selected, sorted, each in [1, total]. */
    public static List<Integer> parse(String text, int total) {
        TreeSet<Integer> out = new TreeSet<>();
        for (String item : text.split(",", -1)) {
            Matcher m = ITEM.matcher(item);
            if (!m.matches()) {
                throw new UnetlensException("bad step selection '" + text + "' at '" + item.strip()
                        + "'; write steps from 1 like 1,5-20(+5)");
            }
            int a = Integer.parseInt(m.group(1));
            int b = m.group(2) == null ? a : Integer.parseInt(m.group(2));
            int k = m.group(3) == null ? 1 : Integer.parseInt(m.group(3));
            if (a < 1 || b > total || b < a || k < 1) {
                throw new UnetlensException("step selection '" + item.strip() + "' is outside 1–" + total
                        + (b < a ? " or runs backwards" : "") + (k < 1 ? " or has a step of (+0)" : "")
                        + " (this run has " + total + " steps, counted from 1)");
            }
            for (int s = a; s <= b; s += k) {
                out.add(s);
            }
        }
        return List.copyOf(out);
    }
}
