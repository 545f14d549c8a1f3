package dev.unetlens.viz.colorize;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A colour map as matplotlib lists it (viridis and magma, perceptually uniform; hot, black–red–yellow–white, the
 * colour map of sdhelper's dispersion plots): 256 RGB entries from low to high, read from
 * {@code colormaps/NAME.txt} (matplotlib's published data, CC0; the file names its source). A value x in [0, 1]
 * takes entry {@code min(255, floor(256·x))} and the entry's bytes are {@code floor(255·channel)}, both as
 * matplotlib's {@code Colormap.__call__(x, bytes=True)} does, so pictures match matplotlib's pixel for pixel.
 */
public enum Colormap {
    VIRIDIS, MAGMA, HOT;

    private final int[] rgb = load(name().toLowerCase(Locale.ROOT));

    /** The map by its matplotlib name ({@code viridis}, {@code magma}, {@code hot}), case-insensitive. */
    public static Colormap parse(String name) {
        for (Colormap m : values()) {
            if (m.name().equalsIgnoreCase(name.strip())) {
                return m;
            }
        }
        throw new IllegalArgumentException("colour map must be viridis, magma or hot, got '" + name + "'");
    }

    /** The packed 0xRRGGBB colour of x in [0, 1] (clamped; NaN gives entry 0). */
    public int rgb(double x) {
        return rgb[index(x)];
    }

    /** Entry i (0–255) as 0xRRGGBB. */
    public int entry(int i) {
        return rgb[i];
    }

    /** matplotlib's lookup: floor(256·x), with x = 1 (and above) at 255 and below 0 (and NaN) at 0. */
    public static int index(double x) {
        if (!(x > 0)) {
            return 0;
        }
        return (int) Math.min(255, Math.floor(256 * x));
    }

    private static int[] load(String name) {
        String resource = "/dev/unetlens/viz/colormaps/" + name + ".txt";
        try (InputStream in = Colormap.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("colour map resource " + resource + " is missing from the jar");
            }
            int[] out = new int[256];
            int n = 0;
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.trim().split("\\s+");
                if (f.length != 3 || n == 256) {
                    throw new IllegalStateException(resource + ": expected 256 lines of 'R G B', bad line: " + line);
                }
                int c = 0;
                for (String x : f) {
                    c = c << 8 | (int) Math.floor(255 * Double.parseDouble(x));
                }
                out[n++] = c;
            }
            if (n != 256) {
                throw new IllegalStateException(resource + ": expected 256 entries, got " + n);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }
}
