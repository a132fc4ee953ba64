# Reference values from R's ordinal::clm for tests/test_ordinal_r.py.
#
# Not run by the test suite (which must not need R). tests/r/make_clm_reference.py writes one
# CSV per case into a folder and calls
#     Rscript tests/r/clm_reference.R <folder>
# which fits each case with clm and writes <folder>/reference.json. Each CSV has the outcome
# `y` (1..J), the design columns x1..xk, and optionally `w` (case weights). A case's
# <name>.json names its columns: po (proportional), nominal (cut-point-specific), link,
# weighted.
suppressPackageStartupMessages({
  library(ordinal)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
folder <- args[1]
cases <- sub("\\.json$", "", list.files(folder, pattern = "^case_.*\\.json$"))
out <- list()
for (case in cases) {
  meta <- fromJSON(file.path(folder, paste0(case, ".json")))
  df <- read.csv(file.path(folder, paste0(case, ".csv")))
  df$y <- factor(df$y, levels = sort(unique(df$y)), ordered = TRUE)
  rhs <- if (length(meta$po)) paste(meta$po, collapse = " + ") else "1"
  form <- as.formula(paste("y ~", rhs))
  ctrl <- clm.control(gradTol = 1e-10, relTol = 1e-12, maxIter = 500, maxLineIter = 200)
  args_clm <- list(formula = form, data = df, link = meta$link, control = ctrl)
  if (isTRUE(meta$weighted)) args_clm$weights <- df$w
  if (length(meta$nominal)) args_clm$nominal <- as.formula(paste("~", paste(meta$nominal, collapse = " + ")))
  fit <- do.call(clm, args_clm)
  co <- coef(fit)
  out[[case]] <- list(
    names = names(co), coef = unname(co), se = unname(sqrt(diag(vcov(fit)))),
    logLik = as.numeric(logLik(fit)), max_grad = max(abs(fit$gradient)),
    converged = fit$convergence$code == 0, n = nobs(fit),
    r_version = R.version.string, ordinal_version = as.character(packageVersion("ordinal"))
  )
}
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(folder, "reference.json"))
