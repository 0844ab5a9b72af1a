/*
 * Straightforward C implementation of one inference step, the peer the generated C# is measured against:
 * embedding (V=96, E=64) row -> one LSTM or GRU cell (PyTorch math, row-major weights, plain loops that
 * gcc -O3 -march=native -ffast-math vectorizes) -> dense (96) -> stable softmax. Batch 1, one thread.
 *
 * usage: baseline lstm|gru H [steps]    prints: "<cell> H=<H> ns_per_step=<median of 7 runs>"
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define V 96
#define E 64

static float frand(unsigned *s) { *s = *s * 1664525u + 1013904223u; return ((*s >> 8) / 16777216.0f - 0.5f) * 0.2f; }
static float *alloc_rand(size_t n, unsigned *s) { float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64); for (size_t i = 0; i < n; i++) p[i] = frand(s); return p; }
static float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

/* y (rows) = b + W (rows, cols) @ x (cols) */
static void matvec(const float *W, const float *b, const float *x, float *y, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        const float *w = W + (size_t)r * cols;
        float acc = b ? b[r] : 0.0f;
        for (int j = 0; j < cols; j++) acc += w[j] * x[j];
        y[r] = acc;
    }
}

static double now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s lstm|gru H [steps]\n", argv[0]); return 2; }
    int lstm = strcmp(argv[1], "lstm") == 0, H = atoi(argv[2]), steps = argc > 3 ? atoi(argv[3]) : 20000;
    int G = lstm ? 4 : 3;
    unsigned s = 42;
    float *emb = alloc_rand((size_t)V * E, &s), *Wih = alloc_rand((size_t)G * H * E, &s), *Whh = alloc_rand((size_t)G * H * H, &s);
    float *bih = alloc_rand(G * H, &s), *bhh = alloc_rand(G * H, &s), *Wd = alloc_rand((size_t)V * H, &s), *bd = alloc_rand(V, &s);
    float *h = calloc(H, 4), *c = calloc(H, 4), *gi = malloc(G * H * 4), *gh = malloc(G * H * 4), *logits = malloc(V * 4);
    double runs[7]; volatile float sink = 0;
    for (int rep = 0; rep < 8; rep++) {
        double t0 = now_ns();
        for (int t = 0; t < steps; t++) {
            const float *x = emb + (size_t)((t * 7) % V) * E;
            matvec(Wih, bih, x, gi, G * H, E);
            matvec(Whh, bhh, h, gh, G * H, H);
            if (lstm) {
                for (int k = 0; k < H; k++) {
                    float i = sigm(gi[k] + gh[k]), f = sigm(gi[H + k] + gh[H + k]);
                    float g = tanhf(gi[2 * H + k] + gh[2 * H + k]), o = sigm(gi[3 * H + k] + gh[3 * H + k]);
                    c[k] = f * c[k] + i * g; h[k] = o * tanhf(c[k]);
                }
            } else {
                for (int k = 0; k < H; k++) {
                    float r = sigm(gi[k] + gh[k]), z = sigm(gi[H + k] + gh[H + k]);
                    float n = tanhf(gi[2 * H + k] + r * gh[2 * H + k]);
                    h[k] = (1 - z) * n + z * h[k];
                }
            }
            matvec(Wd, bd, h, logits, V, H);
            float m = logits[0]; for (int k = 1; k < V; k++) m = logits[k] > m ? logits[k] : m;
            float sum = 0; for (int k = 0; k < V; k++) { logits[k] = expf(logits[k] - m); sum += logits[k]; }
            for (int k = 0; k < V; k++) logits[k] /= sum;
            sink += logits[t % V];
        }
        double ns = (now_ns() - t0) / steps;
        if (rep > 0) runs[rep - 1] = ns; /* first run is warm-up */
    }
    qsort(runs, 7, sizeof(double), cmp);
    printf("%s H=%d ns_per_step=%.0f\n", argv[1], H, runs[3]);
    return sink == 12345.0f;
}
