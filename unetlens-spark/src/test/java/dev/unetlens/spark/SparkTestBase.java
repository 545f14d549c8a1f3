package dev.unetlens.spark;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** A batch test class: a temporary folder per test, and the class's shared Spark session stopped after its tests. */
abstract class SparkTestBase {
    @TempDir
    Path tmp;

    @AfterAll
    static void stopSpark() {
        BatchTestData.stopShared();
    }
}
