package dev.unetlens.spark;

import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Spark standalone cluster for a test: {@code local-cluster[1,1,1024]} starts a master and a worker in this JVM, and
 * the worker launches its executor as a JVM of its own (as on a real cluster: tasks, the request and the model pool
 * cross a process boundary). The worker builds the executor's class path from {@code SPARK_HOME/jars}; here a
 * temporary SPARK_HOME (found through spark.test.home when spark.testing is set) whose {@code jars/} links the test
 * class path's jars and whose {@code launcher/target/scala-2.13} names the Scala version; the class folders go to
 * {@code spark.executor.extraClassPath}, Spark's module opens to its Java options. Closing stops the session, restores
 * the system properties and removes the links.
 */
final class LocalCluster implements AutoCloseable {
    static final String MASTER = "local-cluster[1,1,1024]";
    private static final List<String> PROPERTIES = List.of("spark.testing", "spark.test.home", "spark.executor.extraClassPath",
            "spark.executor.extraJavaOptions");
    private final Map<String, String> old = new HashMap<>();
    private final Path home;
    private SparkSession spark;

    private LocalCluster(Path home) {
        this.home = home;
        PROPERTIES.forEach(p -> old.put(p, System.getProperty(p)));
    }

    /** Starts the cluster's session (batch runs in it, as in a notebook); no other session may be running. */
    static LocalCluster start(Path home) throws IOException {
        LocalCluster c = new LocalCluster(home);
        c.sparkHome();
        c.spark = BatchSpark.session(MASTER);
        return c;
    }

    /** The process id of the JVM the executor runs tasks in. */
    long executorPid() {
        return spark.range(1).map((MapFunction<Long, Long>) x -> ProcessHandle.current().pid(), Encoders.LONG()).first();
    }

    private void sparkHome() throws IOException {
        Files.createDirectories(home.resolve("launcher/target/scala-2.13"));
        Path jars = Files.createDirectories(home.resolve("jars"));
        List<String> folders = new ArrayList<>();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        for (String e : cp.split(File.pathSeparator)) {
            Path p = Path.of(e).toAbsolutePath();
            if (Files.isDirectory(p)) {
                folders.add(p.toString());
            } else if (p.toString().endsWith(".jar") && Files.isRegularFile(p) && !Files.exists(jars.resolve(p.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(p.getFileName()), p);
            }
        }
        List<String> opts = new ArrayList<>();
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-opens") || a.startsWith("--add-modules") || a.startsWith("--enable-native-access")
                    || a.startsWith("-Dai.djl") || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty")) {
                opts.add(a);
            }
        }
        System.setProperty("spark.testing", "true");
        System.setProperty("spark.test.home", home.toString());
        System.setProperty("spark.executor.extraClassPath", String.join(File.pathSeparator, folders));
        System.setProperty("spark.executor.extraJavaOptions", String.join(" ", opts));
    }

    @Override
    public void close() {
        try {
            if (spark != null) {
                spark.stop();
            }
        } finally {
            old.forEach((k, v) -> {
                if (v == null) {
                    System.clearProperty(k);
                } else {
                    System.setProperty(k, v);
                }
            });
            BatchSpark.deleteTree(home);                                       // the links, not what they point to
        }
    }
}
