namespace GrayRelease.Rollouts;

/// <summary>The tests the judge uses; plain functions of counts, so known samples give known answers.</summary>
internal static class Statistics
{
    /// <summary>
    /// One-sided p-value that gray's error proportion exceeds prod's. Two-proportion z-test with pooled variance when
    /// every expected cell count is at least 5 (the usual validity rule); Fisher's exact test otherwise.
    /// </summary>
    public static (double PValue, string Method) ErrorRateGreater(long grayErrors, long grayTotal, long prodErrors, long prodTotal)
    {
        if (grayTotal <= 0 || prodTotal <= 0)
        {
            return (1, "none");
        }

        var total = grayTotal + prodTotal;
        var errors = grayErrors + prodErrors;
        var pooled = (double)errors / total;
        var minExpected = Math.Min(Math.Min(grayTotal, prodTotal) * pooled, Math.Min(grayTotal, prodTotal) * (1 - pooled));
        if (minExpected >= 5)
        {
            var se = Math.Sqrt(pooled * (1 - pooled) * ((1.0 / grayTotal) + (1.0 / prodTotal)));
            var z = (((double)grayErrors / grayTotal) - ((double)prodErrors / prodTotal)) / se;
            return (UpperTail(z), "z-test");
        }

        return (FisherGreater(grayErrors, grayTotal, errors, total), "Fisher exact");
    }

    /// <summary>P(X ≥ k) for X hypergeometric: <paramref name="draws"/> from <paramref name="population"/> holding <paramref name="successes"/>.</summary>
    public static double FisherGreater(long k, long draws, long successes, long population)
    {
        var max = Math.Min(draws, successes);
        if (k <= Math.Max(0, draws + successes - population))
        {
            return 1;
        }

        var logDenominator = LogChoose(population, draws);
        double sum = 0;
        for (var i = k; i <= max; i++)
        {
            var term = Math.Exp(LogChoose(successes, i) + LogChoose(population - successes, draws - i) - logDenominator);
            sum += term;
            if (term < sum * 1e-15)
            {
                break;
            }
        }

        return Math.Min(1, sum);
    }

    /// <summary>
    /// One-sided Mann–Whitney U test that gray's latencies are stochastically larger than prod's, on histograms that
    /// share buckets: each bucket is one tie group (mid-ranks, tie-corrected variance, continuity correction).
    /// Returns the p-value and the common-language effect size P(gray &gt; prod) + ½ P(tie).
    /// </summary>
    public static (double PValue, double Effect) LatencyGreater(ReadOnlySpan<long> gray, ReadOnlySpan<long> prod)
    {
        double n1 = 0, n2 = 0;
        for (var i = 0; i < gray.Length; i++)
        {
            n1 += gray[i];
            n2 += prod[i];
        }

        if (n1 == 0 || n2 == 0)
        {
            return (1, 0.5);
        }

        double u = 0, prodBelow = 0, tieTerm = 0;
        for (var i = 0; i < gray.Length; i++)
        {
            u += gray[i] * (prodBelow + (prod[i] / 2.0));
            prodBelow += prod[i];
            double t = gray[i] + prod[i];
            tieTerm += (t * t * t) - t;
        }

        var n = n1 + n2;
        var mean = n1 * n2 / 2;
        var variance = n1 * n2 / 12 * ((n + 1) - (tieTerm / (n * (n - 1))));
        var effect = u / (n1 * n2);
        if (variance <= 0)
        {
            return (1, effect);
        }

        var z = (u - mean - 0.5) / Math.Sqrt(variance);
        return (UpperTail(z), effect);
    }

    /// <summary>P(Z &gt; z) for a standard normal Z.</summary>
    public static double UpperTail(double z) => 0.5 * Erfc(z / Math.Sqrt(2));

    /// <summary>Complementary error function (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7).</summary>
    public static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + (0.5 * z));
        ReadOnlySpan<double> c = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
        var poly = 0.0;
        for (var i = c.Length - 1; i >= 1; i--)
        {
            poly = (poly + c[i]) * t;
        }

        var r = t * Math.Exp(-(z * z) + c[0] + poly);
        return x >= 0 ? r : 2 - r;
    }

    private static double LogChoose(long n, long k) =>
        k < 0 || k > n ? double.NegativeInfinity : LogFactorial(n) - LogFactorial(k) - LogFactorial(n - k);

    private static double LogFactorial(long n) => n < 2 ? 0 : LogGamma(n + 1.0);

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, nine terms: about 15 significant digits).</summary>
    private static double LogGamma(double x)
    {
        ReadOnlySpan<double> c =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        x -= 1;
        var a = c[0];
        var t = x + 7.5;
        for (var i = 1; i < 9; i++)
        {
            a += c[i] / (x + i);
        }

        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(a);
    }
}
