// late_frees: memory freed (and allocated) after memlens may have flushed
// its statistics (RELIABILITY #24): atexit handlers registered before and
// after main starts, a destructor function, C++ static destructors, and a
// thread still running at exit.  No crash, no error, status 0.
#include "mlweak.h"
#include <pthread.h>
#include <string>
#include <vector>
#include <map>

static char *early, *late;
static std::vector<std::string> *vec;

struct Global {
	std::map<int, std::string> m;
	char *raw;
	Global() : raw((char *)malloc(100))
	{
		for (int i = 0; i < 100; i++)
			m[i] = std::string(50, 'g');
	}
	~Global()
	{
		free(raw);
		m.clear();
		free(malloc(7));
	}
};
static Global global;

static void pre_main_handler(void) { free(early); free(malloc(9)); }
static void handler(void) { free(late); delete vec; }

__attribute__((constructor)) static void ctor(void)
{
	early = (char *)malloc(200);
	atexit(pre_main_handler);
}
__attribute__((destructor)) static void dtor(void)
{
	char *p = strdup("destructor");
	free(p);
}

static void *spin(void *)
{
	for (;;) {
		std::string s(300, 's');
		free(malloc(s.size()));
	}
	return nullptr;
}

int main()
{
	late = (char *)malloc(300);
	vec = new std::vector<std::string>(100, std::string(40, 'v'));
	atexit(handler);
	pthread_t th;
	pthread_create(&th, nullptr, spin, nullptr);
	say("main done\n");
	return 0;
}
