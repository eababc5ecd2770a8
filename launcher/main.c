#include "qrun.h"
int main(void) { return 0; }
