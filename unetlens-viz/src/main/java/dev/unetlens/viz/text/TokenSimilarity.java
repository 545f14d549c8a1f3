package dev.unetlens.viz.text;

import dev.unetlens.viz.Picture;
import dev.unetlens.viz.colorize.Colormap;
import dev.unetlens.viz.render.ColorBar;
import dev.unetlens.viz.render.Text;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The cosine similarity cos(h_a, h_b) = h_a·h_b / (‖h_a‖‖h_b‖) between the tokens' states at one state (layer), as a
 * tokens × tokens matrix over the fixed range [−1, 1] (viridis): tokens the encoder has made alike light up together;
 * CLIP's causal mask shows as later tokens drifting towards the end token.
 */
public final class TokenSimilarity {
    private static final int CELL = 28;

    private TokenSimilarity() {
    }

    /** The matrix of state {@code state} over the {@code shown} tokens. */
    public static Picture render(TokenStates s, int state, List<Integer> shown, String title, String context) {
        double[][] cos = new double[shown.size()][shown.size()];
        for (int i = 0; i < shown.size(); i++) {
            for (int j = 0; j < shown.size(); j++) {
                cos[i][j] = s.cosine(state, shown.get(i), shown.get(j));
            }
        }
        ColorBar bar = ColorBar.of(-1, 1, v -> Colormap.VIRIDIS.rgb((v + 1) / 2), "cosine similarity");
        List<String> labels = TokenNorms.labels(s, shown);
        String name = s.states().get(state);
        List<String> subtitles = List.of(Text.join(context, name, shown.size() + " tokens", "width " + s.width()),
                "cos(h_a, h_b) between the tokens' states · viridis over the fixed range [−1, 1]");
        var image = TokenMatrix.draw(title + " · token similarity at " + name, subtitles, labels,
                TokenNorms.raw(s, shown), labels, cos, CELL, v -> Colormap.VIRIDIS.rgb((v + 1) / 2), bar);
        Map<String, Object> fields = TokenNorms.fields(s, shown);
        fields.put("state", name);
        List<List<Double>> m = new ArrayList<>();
        for (double[] r : cos) {
            m.add(java.util.Arrays.stream(r).boxed().toList());
        }
        fields.put("cosine", m);
        return new Picture(image, "token-similarity", title + " · cosine similarity between tokens at " + name, fields);
    }
}
