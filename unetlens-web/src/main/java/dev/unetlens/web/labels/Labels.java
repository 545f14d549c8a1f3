package dev.unetlens.web.labels;

import java.util.List;

/**
 * The anomaly labels of one image dump: per label the image and the upper-left token (x = column, y = row) of a 2×2
 * high-norm anomaly, as the paper's labeling tool records them.
 *
 * @param images the dump's image names, in dump order (a label's index in the paper's .npy format)
 * @param labels the labels, in the order they were made
 */
public record Labels(List<String> images, List<Label> labels) {
    public Labels {
        images = List.copyOf(images);
        labels = List.copyOf(labels);
    }

    /**
     * @param image the image's name
     * @param x     column of the 2×2 block's upper-left token
     * @param y     its row
     */
    public record Label(String image, int x, int y) {
    }

    /** Label count per image, in image order. */
    public java.util.Map<String, Integer> counts() {
        java.util.Map<String, Integer> out = new java.util.LinkedHashMap<>();
        images.forEach(i -> out.put(i, 0));
        labels.forEach(l -> out.merge(l.image(), 1, Integer::sum));
        return out;
    }
}
