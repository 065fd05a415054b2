/* main.c -- the kefu command line (being written). */
int main(void)
{
	return 0;
}
