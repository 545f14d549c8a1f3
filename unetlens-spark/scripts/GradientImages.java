import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;

/**
 * Writes N distinct 96×96 gradient PNGs (img00.png …) into a folder: the standalone check's inputs, made with the JDK
 * alone ({@code java GradientImages.java DIR N}).
 */
public class GradientImages {
    public static void main(String[] args) throws IOException {
        File dir = new File(args[0]);
        int n = Integer.parseInt(args[1]);
        if (!dir.isDirectory() && !dir.mkdirs()) {
            throw new IOException("cannot create " + dir);
        }
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(96, 96, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 96; y++) {
                for (int x = 0; x < 96; x++) {
                    int r = (x * 255 / 95 + 37 * i) & 255;
                    int g = (y * 255 / 95 + 74 * i + x * i) & 255;
                    int b = ((x + y) * 255 / 190 + 111 * i) & 255;
                    img.setRGB(x, y, r << 16 | g << 8 | b);
                }
            }
            javax.imageio.ImageIO.write(img, "png", new File(dir, String.format("img%02d.png", i)));
        }
    }
}
