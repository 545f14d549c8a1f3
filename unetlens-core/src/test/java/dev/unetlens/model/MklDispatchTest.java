package dev.unetlens.model;

import dev.unetlens.UnetlensException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link MklDispatch}'s pieces; the opt-in itself on the golden U-Nets: MklKernelsGoldenTest. */
class MklDispatchTest {
    /** libtorch 2.7.1's mkl_serv_intel_cpu_true: mov eax,[rip+0x0982b4ba]; test eax,eax; js +1; ret. */
    private static final byte[] LIBTORCH_271 = bytes(0x8b, 0x05, 0xba, 0xb4, 0x82, 0x09, 0x85, 0xc0, 0x78, 0x01, 0xc3);

    @Test
    void theCacheIsTheFunctionPlusSixPlusTheDisplacement() {
        assertThat(MklDispatch.cacheAddress(LIBTORCH_271, 0xb466e70L)).isEqualTo(0x14c92330L);   // objdump's address
        byte[] negative = LIBTORCH_271.clone();
        negative[2] = (byte) 0xfa;                      // disp32 = -6: the cache would be the function itself
        negative[3] = negative[4] = negative[5] = (byte) 0xff;
        assertThat(MklDispatch.cacheAddress(negative, 0x1000L)).isEqualTo(0x1000L);
    }

    @Test
    void anyOtherCodeIsLeftAlone() {
        for (int i : new int[] {0, 1, 6, 7, 8, 9, 10}) {
            byte[] other = LIBTORCH_271.clone();
            other[i] ^= 1;
            assertThat(MklDispatch.cacheAddress(other, 0x1000L)).as("byte %d changed", i).isEqualTo(-1);
        }
        assertThat(MklDispatch.cacheAddress(java.util.Arrays.copyOf(LIBTORCH_271, 10), 0x1000L)).isEqualTo(-1);
    }

    @Test
    void cpuInfoReadsTheFirstCpusVendorAndFlags() {
        CpuInfo c = CpuInfo.parse(List.of("processor\t: 0", "vendor_id\t: AuthenticAMD",
                "flags\t\t: fpu avx2 avx512f avx512cd avx512bw avx512dq avx512vl", "", "processor\t: 1",
                "vendor_id\t: Other"));
        assertThat(c.vendor()).isEqualTo("AuthenticAMD");
        assertThat(c.flags()).containsAll(MklDispatch.AVX512).contains("avx2");
        assertThat(CpuInfo.parse(List.of("vendor_id : X")).flags()).isEmpty();
    }

    @Test
    void requestsAreDefaultOrAvx512AndNothingElse() {
        assertThat(MklDispatch.Request.parse(" AVX512 ", "UNETLENS_MKL")).isEqualTo(MklDispatch.Request.AVX512);
        assertThat(MklDispatch.Request.parse("default", "UNETLENS_MKL")).isEqualTo(MklDispatch.Request.DEFAULT);
        assertThatThrownBy(() -> MklDispatch.Request.parse("avx2", "UNETLENS_MKL")).isInstanceOf(UnetlensException.class)
                .hasMessage("UNETLENS_MKL must be 'default' or 'avx512', got 'avx2'");
        assertThat(MklDispatch.configure(MklDispatch.Request.DEFAULT)).isEqualTo("default");
        assertThat(TorchRuntime.mklChoice("Avx512")).isEqualTo("avx512");
    }

    @Test
    void mappingsCoverWholeRangesOnly() {
        String line = "7f0000001000-7f0000003000 rw-p 00000000 00:00 0";
        assertThat(NativeLibraries.covers(line, 0x7f0000001000L, 4)).isTrue();
        assertThat(NativeLibraries.covers(line, 0x7f0000002ffcL, 4)).isTrue();
        assertThat(NativeLibraries.covers(line, 0x7f0000002ffeL, 4)).isFalse();
        assertThat(NativeLibraries.covers(line, 0x7f0000000ffcL, 4)).isFalse();
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }
}
