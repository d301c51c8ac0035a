#include <csession.h>
#include <stdio.h>
int main(void) { printf("csession %s\n", csession_version()); return 0; }
