package dev.unetlens.viz.render;

/** Small text helpers for titles and captions. */
public final class Text {
    private Text() {
    }

    /** The non-empty parts joined with " · ". */
    public static String join(String... parts) {
        StringBuilder b = new StringBuilder();
        for (String p : parts) {
            if (p != null && !p.isEmpty()) {
                b.append(b.isEmpty() ? "" : " · ").append(p);
            }
        }
        return b.toString();
    }
}
