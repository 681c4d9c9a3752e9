/* empty_main: makes no heap calls at all (RELIABILITY #1). */
int main(void) { return 0; }
