# Reference numbers for hierlib.reml.fit_mixed: the HSB mixed models of Raudenbush & Bryk
# (2002, ch. 4) fitted by R's nlme::lme, by REML and by ML, written to nlme_covariates.json
# next to this script. The test suite reads the JSON; it never runs R.
#
#   Rscript tests/reference/nlme_covariates.R        (from the repository's top folder)
#
# Data: the CSVs the course ships (data/hsb_students.csv, data/hsb_schools.csv), read as
# hierlib.data.load_hsb_covariates reads them:
#   sector = the school's Sector, a factor with levels Public (the reference) and Catholic;
#   mses   = the school's mean SES computed from these 7185 students, ave(SES, School);
#            NOT the shipped MEANSES column (3 decimals; it differs from this mean by up to
#            "max_abs_mses_minus_meanses" in the JSON, about 0.006);
#   cses   = SES - mses (SES centred at its school's mean; it sums to 0 in every school).
#
# Every model is fitted twice with tight control: with lme's default optimiser nlminb (many
# iterations, msTol 1e-14; nlminb's own rel.tol stays at its 1e-10, since 1e-12 makes it stop
# with "singular convergence" on these data) and with optim's BFGS (msTol 1e-15). The JSON
# keeps the fit with the higher log-likelihood ("optimizer") and the gap between the two
# ("logLik_gap_between_optimizers"), which says how closely R itself reached the optimum.
#
# Names: fixed effects are named as statsmodels' MixedLM (patsy) names them (Intercept,
# sector[T.Catholic], mses:cses, sector[T.Catholic]:cses, ...); random effects as R names
# them (Intercept, cses). MixedLM labels the random intercept by the groups column ("school")
# in its cov_re. "re_cov" is the covariance matrix of the random effects (row:column keys),
# "re_corr" their correlation, "residual_sd" sigma; "random_effects" are the BLUPs (REML fits).

suppressPackageStartupMessages(library(nlme))

students <- read.csv("data/hsb_students.csv", colClasses = c(School = "character"))
schools <- read.csv("data/hsb_schools.csv", colClasses = c(School = "character"))
hsb <- data.frame(
  school = students$School,
  mathach = students$MathAch,
  ses = students$SES,
  meanses = students$MEANSES,
  sector = factor(schools$Sector[match(students$School, schools$School)],
                  levels = c("Public", "Catholic"))
)
stopifnot(!anyNA(hsb$sector), nrow(hsb) == 7185, length(unique(hsb$school)) == 160)
hsb$mses <- ave(hsb$ses, hsb$school)          # school mean of SES, from the data
hsb$cses <- hsb$ses - hsb$mses                # group-centred SES

# R's coefficient names -> statsmodels' (patsy's) names for the same columns
sm_name <- function(r) {
  r <- sub("^\\(Intercept\\)$", "Intercept", r)
  r <- gsub("sectorCatholic", "sector[T.Catholic]", r)
  r <- sub("^cses:sector\\[T.Catholic\\]$", "sector[T.Catholic]:cses", r)
  r
}
re_name <- function(r) sub("^\\(Intercept\\)$", "Intercept", r)

control_nlminb <- lmeControl(maxIter = 500, msMaxIter = 1000, msMaxEval = 2000, niterEM = 50,
                             tolerance = 1e-12, msTol = 1e-14)
control_optim <- lmeControl(maxIter = 500, msMaxIter = 5000, niterEM = 50, tolerance = 1e-12,
                            msTol = 1e-15, opt = "optim", optimMethod = "BFGS")

# key = list(fixed, random, statsmodels formula, statsmodels re_formula)
models <- list(
  null = list(mathach ~ 1, ~ 1 | school, "mathach ~ 1", "~1"),
  ses = list(mathach ~ ses, ~ 1 | school, "mathach ~ ses", "~1"),
  centred = list(mathach ~ cses + mses, ~ 1 | school, "mathach ~ cses + mses", "~1"),
  contextual = list(mathach ~ ses + mses, ~ 1 | school, "mathach ~ ses + mses", "~1"),
  means_as_outcomes = list(mathach ~ mses + sector, ~ 1 | school,
                           "mathach ~ mses + sector", "~1"),
  random_coefficients = list(mathach ~ cses, ~ cses | school, "mathach ~ cses", "~cses"),
  random_coefficients_intercept_only = list(mathach ~ cses, ~ 1 | school,
                                            "mathach ~ cses", "~1"),
  slopes_as_outcomes = list(mathach ~ mses * cses + sector * cses, ~ cses | school,
                            "mathach ~ mses * cses + sector * cses", "~cses"),
  slopes_as_outcomes_intercept_only = list(mathach ~ mses * cses + sector * cses,
                                           ~ 1 | school,
                                           "mathach ~ mses * cses + sector * cses", "~1")
)

num <- function(x) trimws(formatC(x, digits = 15, format = "g"))
str_ <- function(x) paste0('"', x, '"')
obj <- function(values) {  # a named numeric vector -> a JSON object
  if (!length(values)) return("{}")
  paste0("{", paste0(str_(names(values)), ": ", num(values), collapse = ", "), "}")
}

best_fit <- function(spec, method) {
  fits <- list(
    nlminb = lme(spec[[1]], random = spec[[2]], data = hsb, method = method,
                 control = control_nlminb),
    optim = lme(spec[[1]], random = spec[[2]], data = hsb, method = method,
                control = control_optim)
  )
  ll <- sapply(fits, function(f) as.numeric(logLik(f)))
  list(fit = fits[[which.max(ll)]], optimizer = names(fits)[which.max(ll)],
       gap = max(ll) - min(ll))
}

describe <- function(best, with_ranef) {
  fit <- best$fit
  fe <- fixef(fit)
  names(fe) <- sm_name(names(fe))
  se <- sqrt(diag(vcov(fit)))
  names(se) <- sm_name(names(se))
  vc <- as.matrix(getVarCov(fit))            # covariance of the random effects
  rn <- re_name(rownames(vc))
  sds <- sqrt(diag(vc))
  names(sds) <- rn
  corr <- c()
  if (length(sds) > 1) {
    corr <- c(vc[1, 2] / (sds[1] * sds[2]))
    names(corr) <- paste(rn[1], rn[2], sep = ":")
  }
  cov_flat <- c(vc)
  names(cov_flat) <- as.vector(outer(rn, rn, paste, sep = ":"))
  out <- paste0(
    '"fixed": ', obj(fe), ", ",
    '"se_fixed": ', obj(se), ", ",
    '"re_sd": ', obj(sds), ", ",
    '"re_corr": ', obj(corr), ", ",
    '"re_cov": ', obj(cov_flat), ", ",
    '"residual_sd": ', num(fit$sigma), ", ",
    '"logLik": ', num(as.numeric(logLik(fit))), ", ",
    '"optimizer": ', str_(best$optimizer), ", ",
    '"logLik_gap_between_optimizers": ', num(best$gap), ", ",
    '"n_obs": ', fit$dims$N, ", ",
    '"n_groups": ', fit$dims$ngrps[["school"]]
  )
  if (with_ranef) {
    re <- ranef(fit)
    out <- paste0(
      out, ", ", '"random_effects": {', str_("school"), ": [",
      paste(str_(rownames(re)), collapse = ", "), "], ",
      paste0(str_(re_name(colnames(re))), ": [",
             sapply(re, function(v) paste(num(v), collapse = ", ")), "]", collapse = ", "),
      "}"
    )
  }
  paste0("{", out, "}")
}

fits <- list()
entries <- c()
for (key in names(models)) {
  spec <- models[[key]]
  parts <- c()
  for (method in c("REML", "ML")) {
    best <- best_fit(spec, method)
    fits[[paste(key, method)]] <- best$fit
    parts <- c(parts, paste0(str_(method), ": ", describe(best, method == "REML")))
  }
  call <- paste0("lme(", deparse(spec[[1]]), ", random = ", deparse(spec[[2]]),
                 ", data = hsb, method = <method>)")
  entries <- c(entries, paste0(
    str_(key), ": {",
    '"formula": ', str_(spec[[3]]), ", ",
    '"re_formula": ', str_(spec[[4]]), ", ",
    '"groups": "school", ',
    '"r_call": ', str_(call), ",\n   ",
    paste(parts, collapse = ",\n   "),
    "}"
  ))
}

# Likelihood-ratio tests of the random slope of cses (REML: both models have the same fixed
# effects). The statistic is R's; the p-value here is the naive chi-square one on 2 df (the
# variance and the covariance), which ignores that the variance is tested at its boundary 0.
lr_tests <- c()
for (pair in list(c("random_coefficients_intercept_only", "random_coefficients"),
                  c("slopes_as_outcomes_intercept_only", "slopes_as_outcomes"))) {
  lr <- anova(fits[[paste(pair[1], "REML")]], fits[[paste(pair[2], "REML")]])
  lr_tests <- c(lr_tests, paste0(
    str_(pair[2]), ": {",
    '"restricted": ', str_(pair[1]), ", ",
    '"full": ', str_(pair[2]), ", ",
    '"method": "REML", ',
    '"statistic": ', num(lr$L.Ratio[2]), ", ",
    '"df": ', lr$df[2] - lr$df[1], ", ",
    '"p_value_naive_chisq": ', num(lr$`p-value`[2]), "}"
  ))
}

max_gap <- max(abs(hsb$mses - hsb$meanses))
header <- paste0(
  '"software": {"R": ', str_(paste(R.version$major, R.version$minor, sep = ".")),
  ', "R_version_string": ', str_(R.version.string),
  ', "nlme": ', str_(as.character(packageVersion("nlme"))), "}, ",
  '"script": "tests/reference/nlme_covariates.R", ',
  '"control": ', str_(paste(
    "nlminb: lmeControl(maxIter = 500, msMaxIter = 1000, msMaxEval = 2000, niterEM = 50,",
    "tolerance = 1e-12, msTol = 1e-14); optim: lmeControl(maxIter = 500, msMaxIter = 5000,",
    "niterEM = 50, tolerance = 1e-12, msTol = 1e-15, opt = 'optim', optimMethod = 'BFGS');",
    "the fit with the higher logLik is kept")), ", ",
  '"names": ', str_(paste(
    "fixed effects as statsmodels MixedLM names them; random effects as R names them",
    "(MixedLM labels the random intercept by the groups column, 'school')")), ", ",
  '"data": {"students": "data/hsb_students.csv", "schools": "data/hsb_schools.csv", ',
  '"n_obs": ', nrow(hsb), ', "n_groups": ', length(unique(hsb$school)), ", ",
  '"sector": "factor(Sector, levels = c(Public, Catholic)): Public is the reference", ',
  '"mses": "ave(SES, School): the school mean of SES computed from these students, not MEANSES", ',
  '"cses": "SES - mses", ',
  '"max_abs_mses_minus_meanses": ', num(max_gap), "}"
)
json <- paste0("{", header, ",\n",
               '"lr_random_slope": {\n  ', paste(lr_tests, collapse = ",\n  "), "},\n",
               '"models": {\n  ', paste(entries, collapse = ",\n  "), "}}")
writeLines(json, "tests/reference/nlme_covariates.json")
cat("wrote tests/reference/nlme_covariates.json\n")
