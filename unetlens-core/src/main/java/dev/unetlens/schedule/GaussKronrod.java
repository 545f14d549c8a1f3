package dev.unetlens.schedule;

import java.util.PriorityQueue;
import java.util.function.DoubleUnaryOperator;

/**
 * Adaptive Gauss–Kronrod quadrature with QUADPACK's 21-point rule {@code dqk21} (Piessens et al. 1983), the rule
 * scipy's {@code integrate.quad} (QUADPACK {@code dqags}) starts with. Deterministic: the interval with the largest
 * error estimate is bisected until the summed estimate meets max(epsabs, epsrel·|I|) or 50 intervals exist.
 *
 * <p>Unlike {@code dqags} there is no Wynn ε-extrapolation, which only matters for integrands with end-point
 * singularities. For the LMS coefficients — polynomials of degree ≤ 3, which the 21-point rule integrates exactly —
 * both stop after the first rule with the same sum, so the coefficients match scipy's to float32 rounding.
 */
final class GaussKronrod {
    /** Kronrod abscissae on [−1, 1], descending; odd indices (0-based 1, 3, …, 9) are the 10-point Gauss nodes. */
    static final double[] XGK = {
        0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
        0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
        0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
        0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
        0.294392862701460198131126603103866, 0.148874338981631210884826001129720,
        0.000000000000000000000000000000000};
    /** Kronrod weights for {@link #XGK}. */
    static final double[] WGK = {
        0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
        0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
        0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
        0.123491976262065851077208794573730, 0.134709217311473325928054001771707,
        0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
        0.149445554002916905664936468389821};
    /** 10-point Gauss weights for XGK[1], XGK[3], …, XGK[9]. */
    static final double[] WG = {
        0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
        0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
        0.295524224714752870173892994651338};

    private static final double EPMACH = Math.ulp(1.0);
    private static final double UFLOW = Double.MIN_NORMAL;
    private static final int LIMIT = 50;

    private GaussKronrod() {
    }

    /** One application of the 21-point rule: the integral and QUADPACK's error estimate. */
    record Estimate(double a, double b, double result, double error) {
    }

    /** ∫_a^b f, to max(epsabs, epsrel·|∫|) where the error estimate allows (a &gt; b gives the negative). */
    static double integrate(DoubleUnaryOperator f, double a, double b, double epsabs, double epsrel) {
        Estimate first = qk21(f, a, b);
        PriorityQueue<Estimate> parts = new PriorityQueue<>((x, y) -> Double.compare(y.error(), x.error()));
        parts.add(first);
        double result = first.result();
        double error = first.error();
        while (error > Math.max(epsabs, epsrel * Math.abs(result)) && parts.size() < LIMIT) {
            Estimate worst = parts.poll();
            double mid = 0.5 * (worst.a() + worst.b());
            Estimate left = qk21(f, worst.a(), mid);
            Estimate right = qk21(f, mid, worst.b());
            parts.add(left);
            parts.add(right);
            result += left.result() + right.result() - worst.result();
            error += left.error() + right.error() - worst.error();
        }
        return result;
    }

    /** QUADPACK {@code dqk21}, summed in its order. */
    static Estimate qk21(DoubleUnaryOperator f, double a, double b) {
        double centr = 0.5 * (a + b);
        double hlgth = 0.5 * (b - a);
        double dhlgth = Math.abs(hlgth);
        double resg = 0;
        double fc = f.applyAsDouble(centr);
        double resk = WGK[10] * fc;
        double resabs = Math.abs(resk);
        double[] fv1 = new double[10];
        double[] fv2 = new double[10];
        for (int j = 0; j < 5; j++) {            // Gauss–Kronrod nodes
            int jtw = 2 * j + 1;
            double absc = hlgth * XGK[jtw];
            double f1 = f.applyAsDouble(centr - absc);
            double f2 = f.applyAsDouble(centr + absc);
            fv1[jtw] = f1;
            fv2[jtw] = f2;
            double fsum = f1 + f2;
            resg += WG[j] * fsum;
            resk += WGK[jtw] * fsum;
            resabs += WGK[jtw] * (Math.abs(f1) + Math.abs(f2));
        }
        for (int j = 0; j < 5; j++) {            // Kronrod-only nodes
            int jtwm1 = 2 * j;
            double absc = hlgth * XGK[jtwm1];
            double f1 = f.applyAsDouble(centr - absc);
            double f2 = f.applyAsDouble(centr + absc);
            fv1[jtwm1] = f1;
            fv2[jtwm1] = f2;
            double fsum = f1 + f2;
            resk += WGK[jtwm1] * fsum;
            resabs += WGK[jtwm1] * (Math.abs(f1) + Math.abs(f2));
        }
        double reskh = resk * 0.5;
        double resasc = WGK[10] * Math.abs(fc - reskh);
        for (int j = 0; j < 10; j++) {
            resasc += WGK[j] * (Math.abs(fv1[j] - reskh) + Math.abs(fv2[j] - reskh));
        }
        resabs *= dhlgth;
        resasc *= dhlgth;
        double abserr = Math.abs((resk - resg) * hlgth);
        if (resasc != 0 && abserr != 0) {
            abserr = resasc * Math.min(1, Math.pow(200 * abserr / resasc, 1.5));
        }
        if (resabs > UFLOW / (50 * EPMACH)) {
            abserr = Math.max(EPMACH * 50 * resabs, abserr);
        }
        return new Estimate(a, b, resk * hlgth, abserr);
    }
}
