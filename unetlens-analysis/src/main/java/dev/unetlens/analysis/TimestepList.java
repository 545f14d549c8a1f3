package dev.unetlens.analysis;

import dev.unetlens.UnetlensException;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Timesteps as {@code --timesteps} takes them: {@code list := item (',' item)*}, {@code item := t | a '-' b ('(+' k ')')?}
 * (both ends included, every k-th), each t in [0, 999]: {@code 0-500(+50)} = 0, 50, …, 500. Order is kept (duplicates
 * dropped), so plots follow the order asked for.
 */
public final class TimestepList {
    private static final Pattern ITEM = Pattern.compile("\\s*(-?\\d+)\\s*(?:-\\s*(-?\\d+)\\s*(?:\\(\\s*\\+\\s*(\\d+)\\s*\\))?)?\\s*");

    private TimestepList() {
    }

    public static List<Integer> parse(String text) {
        LinkedHashSet<Integer> out = new LinkedHashSet<>();
        for (String item : text.split(",", -1)) {
            Matcher m = ITEM.matcher(item);
            if (!m.matches()) {
                throw new UnetlensException("bad --timesteps '" + text + "' at '" + item.strip()
                        + "'; write timesteps in [0, 999] like 0-500(+50) or 0,50,100");
            }
            int a = parseInt(m.group(1), text);
            int b = m.group(2) == null ? a : parseInt(m.group(2), text);
            int k = m.group(3) == null ? 1 : parseInt(m.group(3), text);
            if (a < 0 || b > 999 || a > 999 || b < 0) {
                throw new UnetlensException("--timesteps '" + item.strip() + "' is outside [0, 999]");
            }
            if (b < a || k < 1) {
                throw new UnetlensException("--timesteps '" + item.strip() + "' " + (b < a ? "runs backwards" : "has a step of (+0)"));
            }
            for (int t = a; t <= b; t += k) {
                out.add(t);
            }
        }
        return List.copyOf(new ArrayList<>(out));
    }

    private static int parseInt(String s, String text) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new UnetlensException("--timesteps '" + text + "': " + s + " is outside [0, 999]");
        }
    }

    /** {@code a, a + k, …, b}. */
    public static List<Integer> range(int a, int b, int k) {
        List<Integer> out = new ArrayList<>();
        for (int t = a; t <= b; t += k) {
            out.add(t);
        }
        return List.copyOf(out);
    }
}
