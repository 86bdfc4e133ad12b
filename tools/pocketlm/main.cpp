// Scaffold entry point; the verbs (inspect, dump, ...) are being written.
#include <cstdio>
int main() { std::fprintf(stderr, "pocketlm: no commands yet\n"); return 2; }
