#include "common/uuid.h"
