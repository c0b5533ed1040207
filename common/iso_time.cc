#include "common/iso_time.h"
