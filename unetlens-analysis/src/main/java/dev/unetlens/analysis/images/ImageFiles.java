package dev.unetlens.analysis.images;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.InputFiles;
import dev.unetlens.io.RgbImage;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Image files: folders listed recursively in sorted order, and each file decoded completely or refused. PNG, JPEG,
 * BMP and GIF come with the JDK's ImageIO; WebP (lossy, lossless, with alpha) through the TwelveMonkeys ImageIO
 * plugin. A decoder's warning (JPEG's "premature end of data" for a cut file, which ImageIO otherwise fills with
 * grey) counts as a failure, so a truncated file never passes as an image.
 */
public final class ImageFiles {
    /** What folders are searched for, by file extension. */
    public static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "webp", "bmp", "gif");
    /** The formats, for messages. */
    public static final String FORMATS = "PNG, JPEG, WebP, BMP or GIF";

    private ImageFiles() {
    }

    /**
     * The image files the inputs name: a file as it is, a folder as every file with an image extension below it
     * (recursively; hidden files and folders skipped), sorted by their path inside the folder.
     */
    public static List<Path> expand(List<Path> inputs) {
        List<Path> out = new ArrayList<>();
        for (Path in : inputs) {
            if (Files.isDirectory(in)) {
                out.addAll(list(in));
                continue;
            }
            String problem = InputFiles.problem(in);
            if (problem != null) {
                throw new UnetlensException(in + ": " + (problem.equals("no such file") ? "no such image file or folder" : problem));
            }
            out.add(in);
        }
        return out;
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> !hidden(dir.relativize(p)))
                    .filter(p -> EXTENSIONS.contains(extension(p)))
                    .sorted(Comparator.comparing(p -> dir.relativize(p).toString()))
                    .toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new UnetlensException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    /** Decodes the whole file (alpha dropped, grey expanded to RGB), or fails with one line naming it. */
    public static RgbImage read(Path file) {
        String problem = InputFiles.problem(file);
        if (problem != null) {       // a FIFO or device is refused before it could block a read
            throw new UnetlensException(file + ": " + (problem.equals("no such file") ? "no such image file" : problem));
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? java.util.Collections.emptyIterator() : ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new UnetlensException(file + ": not a readable image; supported formats are " + FORMATS);
            }
            ImageReader reader = readers.next();
            try {
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((IIOReadWarningListener) (r, w) -> warnings.add(w));
                reader.setInput(in, true, true);
                BufferedImage img = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new UnetlensException(file + ": damaged " + reader.getFormatName().toUpperCase(Locale.ROOT)
                            + " image (" + warnings.getFirst().strip() + ")");
                }
                return RgbImage.of(img);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof UnetlensException u) {
                throw u;
            }
            throw new UnetlensException(file + ": damaged or unreadable image (" + oneLine(e) + ")", e);
        }
    }

    private static String oneLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m).strip();
    }
}
