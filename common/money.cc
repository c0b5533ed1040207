#include "common/money.h"
