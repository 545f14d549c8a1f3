package dev.unetlens.intervene;

import dev.unetlens.UnetlensException;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Channels an edit applies to, 0-based tensor indices: {@code channels := item (',' item)*},
 * {@code item := c | a '-' b} (both ends included): {@code 0-31,64}. Of a feature map [B, C, H, W] or tokens
 * [B, T, C] these are C; of attention probabilities [B, N, T, S], heads; of a context [B, S, Dc], Dc.
 *
 * @param ranges the ranges, as written
 */
public record Channels(List<Range> ranges) {
    /** Channels {@code from} to {@code to}, both included. */
    public record Range(int from, int to) {
    }

    private static final Pattern ITEM = Pattern.compile("\\s*(\\d{1,6})\\s*(?:-\\s*(\\d{1,6})\\s*)?");

    public Channels {
        ranges = List.copyOf(ranges);
        if (ranges.isEmpty()) {
            throw new UnetlensException("channels= needs at least one channel, like channels=0-31,64");
        }
    }

    /** Parses {@code 0-31,64}. */
    public static Channels parse(String text) {
        List<Range> out = new ArrayList<>();
        for (String item : text.split(",", -1)) {
            Matcher m = ITEM.matcher(item);
            if (!m.matches()) {
                throw new UnetlensException("bad channels '" + text + "' at '" + item.strip()
                        + "'; write 0-based channels like channels=0-31,64");
            }
            int a = Integer.parseInt(m.group(1));
            int b = m.group(2) == null ? a : Integer.parseInt(m.group(2));
            if (b < a) {
                throw new UnetlensException("channel range " + a + "-" + b + " runs backwards");
            }
            out.add(new Range(a, b));
        }
        return new Channels(out);
    }

    /** The highest channel named. */
    public int max() {
        return ranges.stream().mapToInt(Range::to).max().orElseThrow();
    }

    /** C flags: whether each of {@code c} channels is selected; fails if a channel is ≥ c. */
    public boolean[] select(int c, String where) {
        if (max() >= c) {
            throw new UnetlensException("channel " + max() + " is out of range for " + where + ", which has " + c
                    + " (channels count from 0)");
        }
        boolean[] out = new boolean[c];
        for (Range r : ranges) {
            for (int k = r.from(); k <= r.to(); k++) {
                out[k] = true;
            }
        }
        return out;
    }

    /** As the grammar writes it. */
    public String describe() {
        List<String> parts = new ArrayList<>();
        for (Range r : ranges) {
            parts.add(r.from() == r.to() ? Integer.toString(r.from()) : r.from() + "-" + r.to());
        }
        return String.join(",", parts);
    }
}
