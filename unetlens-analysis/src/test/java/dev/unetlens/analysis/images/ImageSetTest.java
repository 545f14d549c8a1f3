package dev.unetlens.analysis.images;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.RgbImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Image sets: folders in sorted order, every format, damaged files refused (or skipped and listed), the paper's
 * preprocessing. The WebP fixtures are {@code checker.png} through libwebp's {@code cwebp -lossless} and
 * {@code cwebp -q 80}.
 */
class ImageSetTest {
    @TempDir
    Path tmp;

    private static RgbImage image(int w, int h, int seed) {
        byte[] px = new byte[w * h * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 7 + seed * 31);
        }
        return new RgbImage(w, h, px);
    }

    private static Path png(Path file, RgbImage img) throws IOException {
        Files.createDirectories(file.getParent());
        try (var out = Files.newOutputStream(file)) {
            img.writePng(out, Map.of());
        }
        return file;
    }

    private static Path jpeg(Path file, RgbImage img) throws IOException {
        Files.createDirectories(file.getParent());
        ImageIO.write(img.toBufferedImage(), "jpeg", file.toFile());
        return file;
    }

    private Path resource(String name) throws IOException {
        Path p = tmp.resolve("res").resolve(name);
        Files.createDirectories(p.getParent());
        try (InputStream in = ImageSetTest.class.getResourceAsStream(name)) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void foldersAreReadRecursivelyInSortedOrder() throws IOException {
        Path dir = tmp.resolve("photos");
        png(dir.resolve("b/z.png"), image(16, 16, 1));
        png(dir.resolve("a.png"), image(24, 16, 2));
        jpeg(dir.resolve("sub/y.JPG"), image(16, 8, 3));
        png(dir.resolve(".cache/x.png"), image(8, 8, 4));
        png(dir.resolve("c/.hidden.png"), image(8, 8, 5));
        Files.writeString(dir.resolve("notes.txt"), "not an image");
        ImageSet set = ImageSet.read(List.of(dir), Preprocess.NONE, false);
        assertThat(set.entries()).extracting(ImageSet.Entry::name).containsExactly("a", "b_z", "sub_y");
        assertThat(set.entry(0).width()).isEqualTo(24);
        assertThat(set.images().get(1).rgb()).isEqualTo(image(16, 16, 1).rgb());   // PNG is lossless
        assertThat(set.images().get(2).width()).isEqualTo(16);
        // the same file twice gets two names
        Path a = dir.resolve("a.png");
        assertThat(ImageSet.read(List.of(a, a), Preprocess.NONE, false).entries()).extracting(ImageSet.Entry::name)
                .containsExactly("a", "a-2");
    }

    @Test
    void webpIsReadThroughTheImageIoPlugin() throws IOException {
        RgbImage png = ImageFiles.read(resource("checker.png"));
        RgbImage lossless = ImageFiles.read(resource("checker-lossless.webp"));
        RgbImage lossy = ImageFiles.read(resource("checker-lossy.webp"));
        assertThat(lossless.width()).isEqualTo(24);
        assertThat(lossless.height()).isEqualTo(16);
        assertThat(lossless.rgb()).isEqualTo(png.rgb());
        assertThat(lossy.width()).isEqualTo(24);
        double err = 0;
        for (int i = 0; i < png.rgb().length; i++) {
            err += Math.abs((png.rgb()[i] & 0xff) - (lossy.rgb()[i] & 0xff));
        }
        assertThat(err / png.rgb().length).as("mean absolute error of lossy WebP").isLessThan(12);
        assertThat(ImageSet.read(List.of(tmp.resolve("res")), Preprocess.NONE, false).size()).isEqualTo(3);
    }

    @Test
    void damagedFilesFailInOneLineOrAreSkipped() throws IOException {
        Path dir = tmp.resolve("mixed");
        png(dir.resolve("1-good.png"), image(16, 16, 1));
        byte[] full = Files.readAllBytes(png(dir.resolve("2-cut.png"), image(64, 64, 2)));
        Files.write(dir.resolve("2-cut.png"), Arrays.copyOf(full, full.length / 2));
        byte[] jpg = Files.readAllBytes(jpeg(dir.resolve("3-cut.jpg"), image(64, 64, 3)));
        Files.write(dir.resolve("3-cut.jpg"), Arrays.copyOf(jpg, jpg.length * 2 / 3));
        Files.writeString(dir.resolve("4-text.png"), "hello");
        assertThatThrownBy(() -> ImageSet.read(List.of(dir), Preprocess.NONE, false))
                .isInstanceOf(UnetlensException.class)
                .hasMessageStartingWith(dir.resolve("2-cut.png").toString())
                .hasMessageContaining("--skip-bad")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThatThrownBy(() -> ImageFiles.read(dir.resolve("3-cut.jpg"))).hasMessageContaining("3-cut.jpg")
                .hasMessageContaining("JPEG");
        assertThatThrownBy(() -> ImageFiles.read(dir.resolve("4-text.png")))
                .hasMessageContaining("supported formats are PNG, JPEG, WebP, BMP or GIF");
        ImageSet set = ImageSet.read(List.of(dir), Preprocess.NONE, true);
        assertThat(set.entries()).extracting(ImageSet.Entry::name).containsExactly("1-good");
        assertThat(set.skipped()).extracting(s -> s.file().getFileName().toString())
                .containsExactly("2-cut.png", "3-cut.jpg", "4-text.png");
        assertThat(set.skippedJson()).hasSize(3);
    }

    @Test
    void emptyOrMissingInputsFail() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Files.writeString(empty.resolve("readme.md"), "x");
        assertThatThrownBy(() -> ImageSet.read(List.of(empty), Preprocess.NONE, false))
                .hasMessage("no images in " + empty + " (searched recursively for PNG, JPEG, WebP, BMP or GIF files)");
        assertThatThrownBy(() -> ImageSet.read(List.of(tmp.resolve("nope")), Preprocess.NONE, false))
                .hasMessageContaining("no such image file or folder");
        Path fifo = dev.unetlens.io.SpecialFiles.fifo(tmp.resolve("pipe.png"));     // refused without a read that would block
        assertThatThrownBy(() -> ImageSet.read(List.of(fifo), Preprocess.NONE, false)).hasMessageContaining("FIFO");
        assertThatThrownBy(() -> ImageFiles.read(fifo)).hasMessageContaining("FIFO");
    }

    /**
     * The paper's rule: a 500×375 image keeps the box (250 − 187, 0, 250 + 187, 374), 374 px square, resized to 512;
     * a 300×400 image (shorter side under 350) is skipped and listed.
     */
    @Test
    void paperPreprocessing() throws IOException {
        Path dir = tmp.resolve("paper");
        RgbImage wide = image(500, 375, 1);
        png(dir.resolve("wide.png"), wide);
        png(dir.resolve("small.png"), image(300, 400, 2));
        Preprocess p = new Preprocess(null, false, new Preprocess.Paper(350, 512));
        ImageSet set = ImageSet.read(List.of(dir), p, false);
        assertThat(set.entries()).extracting(ImageSet.Entry::name).containsExactly("wide");
        assertThat(set.skipped()).singleElement().satisfies(s -> assertThat(s.reason()).contains("300 px is under --paper-prep 350"));
        RgbImage out = set.image(0);
        assertThat(out.width()).isEqualTo(512);
        assertThat(out.height()).isEqualTo(512);
        // with the output size equal to the crop, the pixels are the box's own
        RgbImage same = new Preprocess(null, false, new Preprocess.Paper(350, 368)).apply(image(368, 400, 3));
        RgbImage src = image(368, 400, 3);
        assertThat(same.get(0, 0, 0)).isEqualTo(src.get(16, 0, 0));
        assertThat(same.get(367, 367, 2)).isEqualTo(src.get(383, 367, 2));
        assertThatThrownBy(() -> new Preprocess(512, false, new Preprocess.Paper(350, 512))).hasMessageContaining("leave out --resize");
        assertThatThrownBy(() -> new Preprocess.Paper(350, 500)).hasMessageContaining("multiple of 8");
    }

    /**
     * PIL's bicubic: the same size is the identity, a flat image stays flat, and 0, 255, 0, 255 halved takes the
     * antialiasing weights k(±¼), k(¾), k(1¼) of Keys' cubic (a = −½) = 0.8672, 0.8672, 0.2266, −0.0703, normalised:
     * 255 · (0.8672 − 0.0703) / 1.8906 = 107.5 → 107 (fixed point: 107).
     */
    @Test
    void pilBicubicResize() {
        RgbImage img = image(20, 10, 4);
        assertThat(PilResize.bicubic(img, 20, 10).rgb()).isEqualTo(img.rgb());
        byte[] flat = new byte[30 * 20 * 3];
        Arrays.fill(flat, (byte) 77);
        RgbImage f = PilResize.bicubic(new RgbImage(30, 20, flat), 17, 9);
        for (byte b : f.rgb()) {
            assertThat(b & 0xff).isEqualTo(77);
        }
        byte[] stripes = new byte[4 * 3];
        for (int x = 0; x < 4; x++) {
            Arrays.fill(stripes, x * 3, x * 3 + 3, (byte) (x % 2 == 0 ? 0 : 255));
        }
        RgbImage half = PilResize.bicubic(new RgbImage(4, 1, stripes), 2, 1);
        assertThat(half.get(0, 0, 0)).isEqualTo(107);
    }
}
